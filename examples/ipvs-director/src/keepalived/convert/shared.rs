//! Keywords several blocks take, with one handler each: the checker timing (virtual and
//! real servers, checks), scripts (`notify_*`, `quorum_*`), `lvs_method`, `virtualhost`,
//! `alpha [BOOL]` and the e-mail alert switch. A block's draft says where their values go
//! through the traits below.

use std::marker::PhantomData;
use std::time::Duration;

use ipvs::Forward;

use super::super::args::Ctx;
use super::super::tree::Node;
use super::keywords::Keyword;
use super::method::method;
use super::IGNORED_KEYWORDS;
use crate::config::{defaults, Script, Timing};

/// A block being converted.
pub(super) trait Draft {
    /// Records that this block's native field `field` comes from statement `n`.
    fn place(&mut self, field: &str, n: &Node, ctx: &mut Ctx);
}

/// A block with the checker timing keywords.
pub(super) trait Timed: Draft {
    /// The smallest `retry` (servers: 1, checks: 0).
    const MIN_RETRY: u64;
    fn timing(&mut self) -> &mut Timing;
}

/// A block with script keywords.
pub(super) trait Scripts: Draft {
    /// Where the script of `keyword` goes (the block's tables give only its own keywords).
    fn script(&mut self, keyword: &str) -> &mut Option<Script>;
}

/// A block with `lvs_method`.
pub(super) trait Forwarded: Draft {
    fn forward(&mut self) -> &mut Option<Forward>;
}

/// A block with `virtualhost NAME`.
pub(super) trait Virtualhost: Draft {
    fn virtualhost(&mut self) -> &mut Option<String>;
}

/// A block with `alpha [BOOL]`.
pub(super) trait Alpha: Draft {
    fn alpha(&mut self) -> &mut Option<bool>;
}

/// The shared tables of keywords.
pub(super) struct Shared<T>(PhantomData<T>);

impl<T: Timed + 'static> Shared<T> {
    /// `delay_loop`, `retry`, `delay_before_retry`, `warmup` (`connect_timeout` is
    /// [`connect_timeout`]: a MISC_CHECK does not take it).
    pub const TIMING: &'static [Keyword<T>] = &[
        Keyword::converted("delay_loop", "SECONDS", "delay_loop", timer::<T>),
        Keyword::converted("retry", "N", "retry", retry::<T>),
        Keyword::converted("delay_before_retry", "SECONDS", "delay_before_retry", timer::<T>),
        Keyword::converted("warmup", "SECONDS", "warmup", timer::<T>),
    ];
}

/// `connect_timeout SECONDS`.
pub(super) const fn connect_timeout<T: Timed>() -> Keyword<T> {
    Keyword::converted("connect_timeout", "SECONDS", "connect_timeout", timer::<T>)
}

/// `smtp_alert [BOOL]`, accepted and ignored.
pub(super) const fn smtp_alert<T>() -> Keyword<T> {
    Keyword::ignored(IGNORED_KEYWORDS[0].0, "[BOOL]", IGNORED_KEYWORDS[0].1, ignore_flag::<T>)
}

/// `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`.
pub(super) const fn lvs_method<T: Forwarded>() -> Keyword<T> {
    let args = "NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]";
    Keyword::converted("lvs_method", args, "forward, tunnel, tunnel_port, tunnel_checksum", forward::<T>)
}

/// `virtualhost NAME`.
pub(super) const fn virtualhost<T: Virtualhost>() -> Keyword<T> {
    Keyword::converted("virtualhost", "NAME", "virtualhost", set_virtualhost::<T>)
}

/// `alpha [BOOL]`.
pub(super) const fn alpha<T: Alpha>() -> Keyword<T> {
    Keyword::converted("alpha", "[BOOL]", "alpha", set_alpha::<T>)
}

/// A script keyword: the command (quoted if it has arguments), then its user and group.
pub(super) const fn script_keyword<T: Scripts>(name: &'static str) -> Keyword<T> {
    Keyword::converted(name, "COMMAND [USER [GROUP]] (a second is ignored)", name, set_script::<T>).repeats()
}

/// The bounds of a timing keyword.
pub(super) fn timer_range(kw: &str) -> (Duration, Duration) {
    match kw {
        "delay_loop" => (Duration::from_micros(1), defaults::MAX_TIMER),
        "connect_timeout" => (Duration::from_micros(1), defaults::MAX_CONNECT_TIMEOUT),
        _ => (Duration::ZERO, defaults::MAX_TIMER),
    }
}

fn timer<T: Timed>(k: &Node, d: &mut T, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        let kw = k.keyword();
        let (min, max) = timer_range(kw);
        let v = ctx.timer(k, 0, min, max);
        let t = d.timing();
        match kw {
            "delay_before_retry" => t.delay_before_retry = v,
            "warmup" => t.warmup = v,
            "delay_loop" => t.delay_loop = v,
            _ => t.connect_timeout = v,
        }
        d.place(kw, k, ctx);
    }
}

/// `retry N`, and `nb_get_retry N` in HTTP checks.
pub(super) fn retry<T: Timed>(k: &Node, d: &mut T, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        d.timing().retry = ctx.uint(k, 0, T::MIN_RETRY, u64::from(u32::MAX)).map(|v| v as u32);
        d.place("retry", k, ctx);
    }
}

/// A script keyword: keepalived 2.2.7 keeps the first of a block and ignores another with a
/// warning ("(VI_1) notify_master script already specified - ignoring ...").
fn set_script<T: Scripts>(k: &Node, d: &mut T, ctx: &mut Ctx) {
    if d.script(k.keyword()).is_some() {
        return ctx.warn(k, "already given in this block: this one ignored, as keepalived ignores it");
    }
    let s = ctx.script(k, true);
    d.place(k.keyword(), k, ctx);
    *d.script(k.keyword()) = s;
}

fn forward<T: Forwarded>(k: &Node, d: &mut T, ctx: &mut Ctx) {
    *d.forward() = method(k, ctx);
    d.place("forward", k, ctx);
}

fn set_virtualhost<T: Virtualhost>(k: &Node, d: &mut T, ctx: &mut Ctx) {
    if ctx.count(k, 1, 1) {
        *d.virtualhost() = k.arg(0).map(str::to_owned);
        d.place("virtualhost", k, ctx);
    }
}

fn set_alpha<T: Alpha>(k: &Node, d: &mut T, ctx: &mut Ctx) {
    *d.alpha() = ctx.flag(k);
    d.place("alpha", k, ctx);
}

/// Checks an optional boolean, and ignores it.
pub(super) fn ignore_flag<T>(k: &Node, _: &mut T, ctx: &mut Ctx) {
    ctx.flag(k);
}
