# Tunnel types and their options.
ipvsadm -A -t 192.0.2.30:80 -s rr
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.31 -i --tun-type ipip
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.32 -i --tun-type gue --tun-port 6080
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.33 -i --tun-type gue --tun-port 6081 --tun-csum
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.34 -i --tun-type gue --tun-port 6082 --tun-remcsum
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.35 -i --tun-type gre --tun-csum
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.36 -i --tun-type gre --tun-nocsum
ipvsadm -a -t 192.0.2.30:80 -r [2001:db8::37] -i
ipvsadm -Ln
ipvsadm -Ln --tun-info
ipvsadm -Sn
ipvsadm -e -t 192.0.2.30:80 -r 198.51.100.32 -i --tun-type gue --tun-port 7000 --tun-csum -w 9
ipvsadm -Ln --tun-info
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.38 -i --tun-type gue
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.38 -i --tun-type ipip --tun-port 5
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.38 -i --tun-type gre --tun-remcsum
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.38 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.38 -m --tun-type gre
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.38 -i --tun-type vxlan
ipvsadm -a -t 192.0.2.30:80 -r 198.51.100.38 -i --tun-type gue --tun-port 70000
