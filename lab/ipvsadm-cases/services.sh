# IPv6, firewall marks, persistence and masks, engines, one-packet, scheduler flags, every
# scheduler, SCTP, odd sort orders, names.
for s in rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh; do
  ipvsadm -A -t 192.0.2.20:$((1000 + ${#s})) -s $s 2>/dev/null
done
ipvsadm -A -t 192.0.2.21:80 -s sh -b sh-fallback,sh-port -p 600 -M 255.255.255.0
ipvsadm -A -u [2001:db8::1]:53 -s mh -o -b mh-port
ipvsadm -A -u 192.0.2.5:5060 -s rr -p 30 --pe sip
ipvsadm -A -f 7 -s rr
ipvsadm -A -f 12 -6 -s fo -p 120 -M 64
ipvsadm -A --sctp-service 192.0.2.22:9000 -s rr
ipvsadm -A -t 192.0.2.23:0 -s rr -p
ipvsadm -A -t 10.0.0.1:80 -s rr
ipvsadm -A -t 192.168.0.1:80 -s rr
ipvsadm -A -t 192.0.2.24:80 -s wlc -b flag-1,flag-3
# A scheduler that names its flags, with a flag it does not name.
ipvsadm -A -t 192.0.2.25:80 -s sh -b flag-3
ipvsadm -A -t 192.0.2.26:80 -s mh -b mh-fallback,flag-3
ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::10]:53 -m
ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::9]:5353 -m -w 4
ipvsadm -a -f 7 -r 198.51.100.20:80 -m
ipvsadm -a -f 7 -r 198.51.100.20:81 -g
ipvsadm -a -f 12 -6 -r [2001:db8::20]:80 -g
ipvsadm -a -t 192.0.2.21:80 -r 10.0.0.1:80 -m
ipvsadm -a -t 192.0.2.21:80 -r 192.168.0.1:80 -m
ipvsadm -a -t 192.0.2.21:80 -r 198.51.100.1:80 -m
ipvsadm -Ln
ipvsadm -Sn
ipvsadm -S
ipvsadm -L
ipvsadm -Ln --persistent-conn
ipvsadm -Ln -f 12 -6
ipvsadm -Ln -f 7
ipvsadm -E -f 7 -s wrr -p 60
ipvsadm -E -u 192.0.2.5:5060 -s rr
ipvsadm -Ln --nosort
ipvsadm -Sn
# Names: host and service names from /etc/hosts and /etc/services, both ways.
ipvsadm -A -t localhost:http -s rr
ipvsadm -A -u 127.0.0.1:domain -s rr
ipvsadm -a -t 127.0.0.1:80 -r localhost:https -m
ipvsadm -L
ipvsadm -L -t localhost:80
ipvsadm -S
ipvsadm -A -t no-such-host.invalid:80
# A v4-mapped IPv6 service address: ipvsadm and the kernel take it (the library's model refuses
# it; the drop-in sends it as ipvsadm does).
ipvsadm -A -t [::ffff:192.0.2.27]:80 -s rr
ipvsadm -Ln -t [::ffff:192.0.2.27]:80
ipvsadm -D -t [::ffff:192.0.2.27]:80
