# Long option spellings, --opt=value forms, bundles, and the connection listing.
ipvsadm --add-service --tcp-service=192.0.2.60:80 --scheduler=rr
ipvsadm --add-service --udp-service 192.0.2.60:53 --scheduler wlc --persistent 100 --netmask 255.255.0.0
ipvsadm --add-service --fwmark-service 9 --ipv6 --scheduler sh --sched-flags sh-port
ipvsadm --add-service --udp-service 192.0.2.61:53 --ops --scheduler rr
ipvsadm --add-server --tcp-service 192.0.2.60:80 --real-server 198.51.100.1 --masquerading --weight 2
ipvsadm --add-server --tcp-service 192.0.2.60:80 --real-server=198.51.100.2:8080 --masquerading --u-threshold 50 --l-threshold 5
ipvsadm --add-server --tcp-service 192.0.2.60:80 --real-server 198.51.100.3 --gatewaying
ipvsadm --add-server --tcp-service 192.0.2.60:80 --real-server 198.51.100.4 --ipip
ipvsadm --list --numeric
ipvsadm --list --numeric --exact --stats
ipvsadm -LnX --rate
ipvsadm --save --numeric
ipvsadm --edit-service --tcp-service 192.0.2.60:80 --scheduler wrr
ipvsadm --edit-server --tcp-service 192.0.2.60:80 --real-server 198.51.100.1 --masquerading --weight 7
ipvsadm --zero --tcp-service 192.0.2.60:80
ipvsadm --delete-server --tcp-service 192.0.2.60:80 --real-server 198.51.100.3
ipvsadm --delete-service --udp-service 192.0.2.61:53
ipvsadm -Lc
ipvsadm -Lcn
ipvsadm -L -c --persistent-conn
ipvsadm --list --connection --numeric
ipvsadm --version
ipvsadm --list --numeric --timeout
ipvsadm --restore --numeric
ipvsadm --clear
ipvsadm --list -n
