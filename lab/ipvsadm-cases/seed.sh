# The seed guides' commands: rr, wrr and wlc services with NAT, DR and tunnel real servers,
# and every listing mode.
ipvsadm -A -t 192.0.2.10:80 -s rr
ipvsadm -a -t 192.0.2.10:80 -r 198.51.100.11:80 -m
ipvsadm -a -t 192.0.2.10:80 -r 198.51.100.12:8080 -m -w 3
ipvsadm -A -t 192.0.2.11:80 -s wrr
ipvsadm -a -t 192.0.2.11:80 -r 198.51.100.11 -g -w 2
ipvsadm -a -t 192.0.2.11:80 -r 198.51.100.12 -w 5
ipvsadm -A -t 192.0.2.12:443 -s wlc -p
ipvsadm -a -t 192.0.2.12:443 -r 198.51.100.13 -i
ipvsadm -a -t 192.0.2.12:443 -r 198.51.100.14:443 -i -w 0
ipvsadm -A -u 192.0.2.13:53 -s lc
ipvsadm -a -u 192.0.2.13:53 -r 198.51.100.11:53 -m -x 100 -y 10
ipvsadm -Ln
ipvsadm -L -n
ipvsadm -ln --stats
ipvsadm -Ln --rate
ipvsadm -Ln --thresholds
ipvsadm -Ln --persistent-conn
ipvsadm -Ln --tun-info
ipvsadm -Ln --exact --stats
ipvsadm -Ln --nosort
ipvsadm -Ln --sort
ipvsadm -Sn
ipvsadm -S -n
ipvsadm -S
ipvsadm -L
ipvsadm
ipvsadm -Ln -t 192.0.2.11:80
ipvsadm -L -n -u 192.0.2.13:53 --stats
ipvsadm -e -t 192.0.2.11:80 -r 198.51.100.11 -g -w 0
ipvsadm -E -t 192.0.2.10:80 -s wrr
ipvsadm -Z
ipvsadm -Z -t 192.0.2.10:80
ipvsadm -d -t 192.0.2.10:80 -r 198.51.100.11:80
ipvsadm -D -u 192.0.2.13:53
ipvsadm -Ln
ipvsadm -C
ipvsadm -Ln
ipvsadm -v
