# Bad input of every kind, and the kernel's refusals.
ipvsadm -A -t 192.0.2.40:80 -s rr
ipvsadm -A -t 192.0.2.40:80 -s rr
ipvsadm -A -t 192.0.2.41:80 -s nosuchsched
ipvsadm -A -t 192.0.2.41:80 --pe nosuchpe -p
ipvsadm -E -t 192.0.2.49:80 -s rr
ipvsadm -D -t 192.0.2.49:80
ipvsadm -Z -t 192.0.2.49:80
ipvsadm -a -t 192.0.2.49:80 -r 198.51.100.1
ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.1
ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.1
ipvsadm -e -t 192.0.2.40:80 -r 198.51.100.2
ipvsadm -d -t 192.0.2.40:80 -r 198.51.100.2
ipvsadm -a -t 192.0.2.40:80 -r 0.0.0.0
ipvsadm -a -t 192.0.2.40:80 -r 224.0.0.1
ipvsadm -a -t 192.0.2.40:80 -r [2001:db8::1]:80 -m
ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.3 -x 10 -y 20
ipvsadm -Ln -t 192.0.2.49:80
ipvsadm -A -t 192.0.2.42:0
ipvsadm -A -t 192.0.2.42:80 -o
ipvsadm -A -t 192.0.2.42:80 -b sh-port
ipvsadm -A -t 192.0.2.42:80 -s sh -b mh-port
ipvsadm -A -t 192.0.2.42:80 -s sh -b bogus
ipvsadm -A -t 192.0.2.42:80 -p 0
ipvsadm -A -t 192.0.2.42:80 -p 99999999
ipvsadm -A -t 192.0.2.42:80 -p 10 -M 300.0.0.0
ipvsadm -A -u [2001:db8::2]:80 -p 10 -M 129
ipvsadm -A -t 192.0.2.300:80
ipvsadm -A -t 192.0.2.42:99999
ipvsadm -A -t 192.0.2.42:nosuchport
ipvsadm -A -t 80
ipvsadm -A -t [2001:db8::1]80
ipvsadm -A -f 0
ipvsadm -A -f abc
ipvsadm -A -6 -f 5
ipvsadm -A
ipvsadm -A -t 192.0.2.42:80 -r 198.51.100.1
ipvsadm -A -t 192.0.2.42:80 -s rr -s wrr
ipvsadm -A -D -t 192.0.2.42:80
ipvsadm -t 192.0.2.42:80 -A
ipvsadm -L --frobnicate
ipvsadm -L -q
ipvsadm -A -t
ipvsadm -A -t 192.0.2.42:80 extra
ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.1 -w 65536
ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.1 -w -1
ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.1 -w x
ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.1 -x -5
ipvsadm -a -t 192.0.2.40:80
ipvsadm -a -t 192.0.2.40:80 -r 198.51.100.4 -m -g
ipvsadm -L -c --stats
ipvsadm -L --timeout --daemon
ipvsadm -L -t 192.0.2.40:80 --timeout
ipvsadm -C -t 192.0.2.40:80
ipvsadm -S -t 192.0.2.40:80
ipvsadm -Z -n
ipvsadm --set
ipvsadm -Lnn
ipvsadm -L -n -n
ipvsadm -Ln
# An argument that is not UTF-8.
ipvsadm -L -t "$(printf 'caf\351:80')"
ipvsadm -A -f "$(printf '\377')"
