//! The pieces of a page: escaping, the frame (head, style, legend, filter box, script), the
//! collapsible sections with their tables, the state badges, the kernel's cells, and the
//! formats of numbers, durations and times.

use std::fmt::{self, Write};

use super::{sparkline, Health, Kernel, REFRESH_SECONDS};

/// Text with `&`, `<`, `>`, `"` and `'` escaped: safe in an element and in a quoted attribute.
///
/// ```
/// use ipvs_exporter::page::Esc;
/// assert_eq!(Esc("<script>\"a\" & 'b'").to_string(), "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0 1em 2em;color:#111;background:#fff}\
h1{font-size:1.3em;margin:.5em 0 .2em}h2{font-size:1.1em;margin:1em 0 .3em}\
nav a{margin-right:1em}.facts{color:#333}\
table{border-collapse:collapse;width:100%;margin:.2em 0 .8em}\
th,td{border-bottom:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top;white-space:nowrap}\
th{background:#f4f4f4}.n{text-align:right;font-variant-numeric:tabular-nums}\
details{border-top:1px solid #bbb}summary{cursor:pointer;padding:4px 0}summary b{margin-right:.6em}\
.st{display:inline-block;padding:0 5px;margin-right:.4em;border:1px solid;border-radius:3px}\
.st-up{background:#dcf5e3;border-color:#1a7f37;color:#0b4d21}\
.st-down{background:#ffe0de;border-color:#b42318;color:#7a1209;font-weight:600}\
.st-draining{background:#fff3c4;border-color:#a86b00;color:#5c3b00}\
.st-inhibited{background:#ece8fb;border-color:#5b4bb7;color:#33276e}\
.st-out{background:#eee;border-color:#777;color:#333}\
.spark{font-family:monospace;color:#1a5fb4}.fail{color:#7a1209}\
#filter{width:22em}#stale{color:#7a1209}";

/// The script: the filter box (also set from `#filter=TEXT` in the address), and the refresh
/// of `#main` (filter and open sections kept; `data-refreshes` on `<body>` counts the
/// refreshes done).
const SCRIPT: &str = r#"(function () {
  var filter = document.getElementById('filter');
  function apply() {
    var q = filter.value.trim().toLowerCase();
    document.querySelectorAll('details[data-section]').forEach(function (d) {
      var head = d.querySelector('summary');
      var whole = !q || (head && head.textContent.toLowerCase().indexOf(q) >= 0);
      var shown = 0;
      d.querySelectorAll('tr[data-server]').forEach(function (r) {
        var hit = whole || r.textContent.toLowerCase().indexOf(q) >= 0;
        r.hidden = !hit;
        if (hit) shown++;
      });
      d.hidden = !whole && shown === 0;
      if (q && !whole && shown > 0) d.open = true;
    });
  }
  // A filter in the address (#filter=TEXT) is applied on load, and the box keeps the
  // address in step: a filtered view can be bookmarked or sent.
  var asked = /(?:^#|&)filter=([^&]*)/.exec(location.hash);
  if (asked) {
    try { filter.value = decodeURIComponent(asked[1]); } catch (e) { filter.value = asked[1]; }
  }
  filter.addEventListener('input', function () {
    var q = filter.value.trim();
    history.replaceState(null, '', q ? '#filter=' + encodeURIComponent(q) : location.pathname + location.search);
    apply();
  });
  apply();
  var refreshes = 0;
  function refresh() {
    fetch(location.pathname, {cache: 'no-store'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.text();
    }).then(function (text) {
      var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('main');
      var main = document.getElementById('main');
      if (!fresh || !main) throw new Error('no main part');
      fresh.querySelectorAll('details[id]').forEach(function (d) {
        var old = document.getElementById(d.id);
        if (old) d.open = old.open;
      });
      main.replaceWith(fresh);
      document.getElementById('stale').hidden = true;
      refreshes += 1;
      document.body.setAttribute('data-refreshes', refreshes);
      apply();
    }).catch(function () {
      document.getElementById('stale').hidden = false;
    }).then(function () {
      setTimeout(refresh, EVERY);
    });
  }
  setTimeout(refresh, EVERY);
})();
"#;

/// A state's badge: its colour, symbol and `text` (the state's word when empty).
pub fn badge(out: &mut String, health: Health, text: &str) -> fmt::Result {
    let text = if text.is_empty() { health.name() } else { text };
    write!(out, "<span class=\"st st-{}\">{} {}</span>", health.name(), health.symbol(), Esc(text))
}

/// The start of a page: head (style, refresh without JavaScript), heading, links, legend and
/// filter box, and the opening of `<main id="main">` (the part the script refreshes).
pub fn open(out: &mut String, title: &str, links: &[(&str, &str)]) -> fmt::Result {
    write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title>\n<noscript><meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\"></noscript>\n\
         <style>{STYLE}</style></head>\n<body>\n<header><h1>{t}</h1>\n<nav>",
        t = Esc(title)
    )?;
    for (href, text) in links {
        write!(out, "<a href=\"{}\">{}</a>", Esc(href), Esc(text))?;
    }
    write!(out, "<span id=\"stale\" hidden>not refreshed: the last reading failed</span></nav>\n<p class=\"legend\">")?;
    for h in Health::ALL {
        badge(out, h, "")?;
        write!(out, "{} &nbsp; ", h.meaning())?;
    }
    write!(
        out,
        "</p>\n<p><label>Filter <input type=\"search\" id=\"filter\" placeholder=\"address, state, error\" \
         autocomplete=\"off\"></label> (refreshes every {REFRESH_SECONDS} s)</p></header>\n<main id=\"main\">\n"
    )
}

/// The end of a page: closes `<main>`, adds the script.
pub fn close(out: &mut String) -> fmt::Result {
    let every = REFRESH_SECONDS * 1000;
    writeln!(out, "</main>\n<script>\nvar EVERY = {every};\n{SCRIPT}</script>\n</body></html>")
}

/// Opens a collapsible section (`<details data-section>`, its `id` derived from `key`) with
/// the summary `summary` (HTML, written by the caller) and a table of `columns`.
pub fn section_open(out: &mut String, key: &str, open: bool, summary: &str, columns: &[&str]) -> fmt::Result {
    let id: String = key.chars().map(|c| if c.is_whitespace() { '_' } else { c }).collect();
    let open = if open { " open" } else { "" };
    write!(out, "<details data-section id=\"s-{}\"{open}><summary>{summary}</summary>\n<table><thead><tr>", Esc(&id))?;
    for c in columns {
        let numeric = KERNEL_COLUMNS[..6].contains(c);
        write!(out, "<th{}>{}</th>", if numeric { " class=\"n\"" } else { "" }, Esc(c))?;
    }
    out.write_str("</tr></thead><tbody>\n")
}

/// Closes a section.
pub fn section_close(out: &mut String) -> fmt::Result {
    out.write_str("</tbody></table></details>\n")
}

/// Opens a row of a server (`data-server`, `data-state`) and writes its first two cells: the
/// server and its state's badge.
pub fn row_open(out: &mut String, server: &str, health: Health) -> fmt::Result {
    let s = Esc(server);
    write!(out, "<tr data-server=\"{s}\" data-state=\"{}\"><td>{s}</td><td>", health.name())?;
    badge(out, health, "")?;
    out.write_str("</td>")
}

/// The server and state (`data-server`, `data-state`, as written: escaped) of every server
/// row of a page, in order: what tests and scripts check a page by.
///
/// ```
/// use ipvs_exporter::page::{row_open, rows};
/// let mut html = String::new();
/// row_open(&mut html, "198.51.100.1:80", ipvs_exporter::page::Health::Down).unwrap();
/// assert_eq!(rows(&html), [("198.51.100.1:80".to_owned(), "down".to_owned())]);
/// ```
pub fn rows(html: &str) -> Vec<(String, String)> {
    let attribute = |rest: &str, name: &str| -> Option<String> {
        let at = rest.find(name)? + name.len();
        rest[at..].split('"').next().map(str::to_owned)
    };
    html.split("<tr data-server=\"")
        .skip(1)
        .filter_map(|rest| {
            let tag = rest.split('>').next()?;
            Some((tag.split('"').next()?.to_owned(), attribute(tag, "data-state=\"")?))
        })
        .collect()
}

/// The columns of [`kernel_cells`].
pub const KERNEL_COLUMNS: [&str; 7] = ["weight", "active", "inactive", "conn/s", "in B/s", "out B/s", "recent conn/s"];

/// The kernel's cells of a row: weight, connections, rates and the sparkline of recent
/// connection rates; dashes for a server not in the table.
pub fn kernel_cells(out: &mut String, kernel: Option<&Kernel>) -> fmt::Result {
    let Some(k) = kernel else {
        return out.write_str(
            "<td class=\"n\">-</td><td class=\"n\">-</td><td class=\"n\">-</td><td class=\"n\">-</td>\
             <td class=\"n\">-</td><td class=\"n\">-</td><td>not in the table</td>",
        );
    };
    write!(
        out,
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
        k.weight, k.active, k.inactive
    )?;
    write!(
        out,
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
        si(k.cps),
        si(k.in_bps),
        si(k.out_bps)
    )?;
    write!(out, "<td class=\"spark\">{}</td>", sparkline(&k.recent))
}

/// A count with an SI prefix, three digits at most.
///
/// ```
/// use ipvs_exporter::page::si;
/// assert_eq!([si(999), si(1_234), si(12_345_678), si(u64::MAX)], ["999", "1.2k", "12M", "18E"]);
/// ```
pub fn si(n: u64) -> String {
    const PREFIXES: [&str; 6] = ["k", "M", "G", "T", "P", "E"];
    if n < 1000 {
        return n.to_string();
    }
    let mut x = n as f64 / 1000.0;
    let mut p = 0;
    while x >= 999.5 && p + 1 < PREFIXES.len() {
        x /= 1000.0;
        p += 1;
    }
    if x < 9.95 {
        format!("{x:.1}{}", PREFIXES[p])
    } else {
        format!("{x:.0}{}", PREFIXES[p])
    }
}

/// A duration in the two largest units (negative or not a number: 0 s).
///
/// ```
/// use ipvs_exporter::page::duration;
/// assert_eq!([duration(4.7), duration(125.0), duration(7_300.0), duration(200_000.0)], ["4 s", "2 min 5 s", "2 h 1 min", "2 d 7 h"]);
/// ```
pub fn duration(seconds: f64) -> String {
    let s = if seconds.is_finite() && seconds > 0.0 { seconds as u64 } else { 0 };
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
///
/// ```
/// use ipvs_exporter::page::utc;
/// assert_eq!(utc(0.0), "1970-01-01 00:00:00 UTC");
/// assert_eq!(utc(1_709_251_199.9), "2024-02-29 23:59:59 UTC");
/// ```
pub fn utc(unix: f64) -> String {
    let secs = if unix.is_finite() && unix > 0.0 { unix as u64 } else { 0 };
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // The civil date of a day count (Howard Hinnant's algorithm), in unsigned arithmetic.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_character_is_escaped_and_nothing_else() {
        let text = "a<b>c&d\"e'f ünï";
        assert_eq!(Esc(text).to_string(), "a&lt;b&gt;c&amp;d&quot;e&#39;f ünï");
        assert_eq!(Esc("").to_string(), "");
        assert_eq!(Esc("&&").to_string(), "&amp;&amp;");
    }

    #[test]
    fn a_section_id_has_no_space_and_is_escaped() {
        let mut out = String::new();
        section_open(&mut out, "tcp 192.0.2.1:80\"<x>", true, "s", &["real server", "weight"]).unwrap();
        assert!(out.starts_with("<details data-section id=\"s-tcp_192.0.2.1:80&quot;&lt;x&gt;\" open>"), "{out}");
        assert!(out.contains("<th>real server</th><th class=\"n\">weight</th>"), "{out}");
    }

    #[test]
    fn dates_of_leap_years_and_centuries() {
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(4_107_542_400.0), "2100-03-01 00:00:00 UTC");
        assert_eq!(utc(-5.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(f64::NAN), "1970-01-01 00:00:00 UTC");
    }
}
