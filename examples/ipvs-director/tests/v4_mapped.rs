//! A v4-mapped IPv6 address (`::ffff:192.0.2.10`) as a virtual server's address is refused,
//! naming the field, in the native file and in keepalived.conf, as it is for a real server:
//! the library's one rule for services and destinations.

use ipvs_director::config::Config;
use ipvs_director::keepalived::read_str;

const MAPPED: &str = "::ffff:192.0.2.10";

#[test]
fn a_v4_mapped_virtual_server_is_refused_in_the_native_file() {
    let text = format!(
        "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"{MAPPED}\"\nport = 80\n\n\
         [[virtual_servers.real_servers]]\naddress = \"2001:db8::11\"\n"
    );
    let e = Config::from_toml(&text).unwrap_err().to_string();
    assert!(e.starts_with(&format!("3:1: virtual_servers[0].address = {MAPPED}: ")), "{e}");
    assert!(e.contains("v4-mapped"), "{e}");
    // A v4-mapped real server was refused already; the same words.
    let text = "[[virtual_servers]]\nprotocol = \"tcp\"\naddress = \"2001:db8::10\"\nport = 80\n\n\
         [[virtual_servers.real_servers]]\naddress = \"::ffff:198.51.100.11\"\n";
    let e = Config::from_toml(text).unwrap_err().to_string();
    assert!(e.contains("v4-mapped"), "{e}");
    // The IPv6 virtual server is fine.
    let ok = text.replace("::ffff:198.51.100.11", "2001:db8::11");
    Config::from_toml(&ok).unwrap();
}

#[test]
fn a_v4_mapped_virtual_server_is_refused_in_keepalived_conf() {
    let text = format!(
        "virtual_server {MAPPED} 80 {{\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    \
         real_server 2001:db8::11 80 {{\n    }}\n}}\n"
    );
    let e = match read_str(&text, "keepalived.conf") {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    };
    assert!(e.starts_with(&format!("keepalived.conf:1: virtual_server: address {MAPPED}: ")), "{e}");
    assert!(e.contains("v4-mapped"), "{e}");
    let ok = text.replace(MAPPED, "2001:db8::10");
    assert!(read_str(&ok, "keepalived.conf").is_ok(), "{ok}");
}
