//! The fixed texts: the version line (which scripts parse) and the help.

/// `ipvsadm -v`: the version line of the ipvsadm this tool stands in for.
pub fn version() -> String {
    "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n".to_owned()
}

/// `ipvsadm -h`: this tool's own summary of the commands and options (not ipvsadm's text).
pub fn usage(program: &str) -> String {
    format!(
        "{program}: an ipvsadm 1.31-compatible tool built on the ipvs library
Commands (one per line):
  -A|-E  service-address [-s scheduler] [-p [timeout]] [-M netmask] [--pe engine] [-o] [-b flags]
  -D     service-address
  -C     clear the table
  -R     restore rules from standard input
  -S     [-n] save rules to standard output
  -a|-e  service-address -r server-address [-g|-i|-m] [-w weight] [-x upper] [-y lower]
         [--tun-type ipip|gue|gre] [--tun-port port] [--tun-nocsum|--tun-csum|--tun-remcsum]
  -d     service-address -r server-address
  -L|-l  [service-address] [options]   list the table
  -Z     [service-address]             zero counters
  --set  tcp tcpfin udp                set connection timeouts
  --start-daemon {{master|backup}} [daemon options]
  --stop-daemon {{master|backup}}
  -h     this help;  -v  the version
service-address: -t|-u|--sctp-service address[:port], or -f fwmark [-6]
List options: -n --stats --rate --thresholds --persistent-conn --tun-info --exact|-X
              --nosort --sort -c --timeout --daemon
Daemon options: --mcast-interface ifname --syncid id --sync-maxlen len --mcast-group addr
                --mcast-port port --mcast-ttl ttl
"
    )
}
