# Timeouts and sync daemons.
ipvsadm -L --timeout
ipvsadm --set 900 120 300
ipvsadm -L --timeout
ipvsadm --set 0 0 60
ipvsadm -l --timeout
ipvsadm --set 1 2
ipvsadm --set 1 2 x
ipvsadm --set 1 2 3 4
ipvsadm -L --daemon
ipvsadm --start-daemon master --mcast-interface dummy0
ipvsadm --start-daemon master --mcast-interface dummy0
ipvsadm --start-daemon backup --mcast-interface dummy0 --syncid 7 --sync-maxlen 1400 --mcast-group 224.0.0.99 --mcast-port 8849 --mcast-ttl 3
ipvsadm -L --daemon
ipvsadm -Ln --daemon
ipvsadm --stop-daemon master
ipvsadm --stop-daemon master
ipvsadm --stop-daemon backup
ipvsadm -L --daemon
ipvsadm --start-daemon primary
ipvsadm --stop-daemon secondary
ipvsadm --start-daemon master --mcast-interface nosuchif0
ipvsadm --start-daemon master --mcast-group 198.51.100.1
ipvsadm --start-daemon master --mcast-group ff02::zz
ipvsadm --start-daemon master --mcast-port 0
ipvsadm --start-daemon master --mcast-ttl 256
ipvsadm --start-daemon master --sync-maxlen 70000
ipvsadm --start-daemon master --syncid 256
ipvsadm -L --timeout --stats
ipvsadm -L --daemon --persistent-conn
