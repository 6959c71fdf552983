# -R: ipvsadm's rule format from standard input, stray "ipvsadm" words, blank lines,
# failing lines, and a save/restore round trip.
ipvsadm -R <<'RULES'
ipvsadm -A -t 192.0.2.50:80 -s rr
-a -t 192.0.2.50:80 -r 198.51.100.1:80 -m -w 2

   -a -t 192.0.2.50:80 -r 198.51.100.2:80 -m ipvsadm -w 3
-A -t 192.0.2.50:80 -s rr
-A -u [2001:db8::50]:53 -s mh
-a -u [2001:db8::50]:53 -r [2001:db8::51]:53 -m
RULES
ipvsadm -Ln
ipvsadm -R <<'RULES'
-A -t 192.0.2.51:80 -s wrr
-A -t 192.0.2.51:0
-A -t 192.0.2.52:80 -s wrr
RULES
ipvsadm -Ln
ipvsadm -R <<'RULES'
-A -t 192.0.2.53:80 -s wrr
-A -t 192.0.2.53:80 -s wrr
RULES
ipvsadm -R <<'RULES'
-A -t 192.0.2.54:80
-R
-A -t 192.0.2.55:80
RULES
ipvsadm -Sn
ipvsadm -C
ipvsadm -R < /dev/null
ipvsadm -Ln
# Bytes that are not UTF-8 in a rule: the line is run (the kernel knows no such scheduler)
# and so is every line after it.
printf -- '-A -t 192.0.2.41:80\n-A -t 192.0.2.42:80 -s w\351\n-A -t 192.0.2.43:80\n' | ipvsadm -R
# A long line (5000 blanks) is read whole.
{ printf -- '-A -t 192.0.2.44:80 -s rr'; printf '%5000s' ''; printf -- 'extra\n-A -t 192.0.2.45:80\n'; } | ipvsadm -R
ipvsadm -Sn
