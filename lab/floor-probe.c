/* floor-probe: the kernel's write floor for an IPVS table, measured with none of the
 * project's code: an independent check of the floor state-bench measures.
 *
 *   floor-probe N [after-flush]
 *
 * Writes the table state-bench writes (N TCP services 192.0.2.(i%250+1):(1000+i/250), wrr,
 * each with 198.51.100.1-4:80 by NAT, weights 1-4) into a fresh network namespace of its own:
 * every request encoded before the clock starts, sent without acknowledgement in sendmsg
 * calls of at most 256 KiB, failures collected as they come, one acknowledged GET_INFO as the
 * barrier. Then checks that the kernel holds N services. With `after-flush`, flushes the
 * table and writes it again in the same namespace (the kernel keeps the deleted
 * destinations on its per-namespace trash list, and every add walks it).
 * Prints one line:
 *   floor-probe NxN4: fresh namespace S s[ | after a flush S s]
 * Exits 1 on any failure (a request refused, the table not as written). Needs root and IPVS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CMD_NEW_SERVICE = 1, CMD_GET_SERVICE = 4, CMD_NEW_DEST = 5, CMD_GET_INFO = 15, CMD_FLUSH = 17 };
enum { ATTR_SERVICE = 1, ATTR_DEST = 2 };
enum { SVC_AF = 1, SVC_PROTOCOL, SVC_ADDR, SVC_PORT, SVC_FWMARK, SVC_SCHED, SVC_FLAGS, SVC_TIMEOUT, SVC_NETMASK };
enum { DST_ADDR = 1, DST_PORT, DST_FWD, DST_WEIGHT, DST_UTHRESH, DST_LTHRESH, DST_AF = 11 };
#define BATCH (256 * 1024)
#define AF_INET_ 2
#define TCP 6

static int sock;
static uint16_t family;
static uint32_t seq = 1;

static void die(const char *what) {
    fprintf(stderr, "floor-probe: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* A growing buffer of netlink messages. */
struct buf { char *p; size_t len, cap; };

static void *grow(struct buf *b, size_t n) {
    size_t need = b->len + ((n + 3) & ~(size_t)3);
    if (need > b->cap) {
        b->cap = need * 2 > 1 << 16 ? need * 2 : 1 << 16;
        b->p = realloc(b->p, b->cap);
        if (!b->p) die("realloc");
    }
    void *at = b->p + b->len;
    memset(at, 0, need - b->len);
    b->len = need;
    return at;
}

static size_t attr(struct buf *b, uint16_t type, const void *data, size_t n) {
    size_t at = b->len;
    struct nlattr *a = grow(b, NLA_HDRLEN + n);
    a->nla_type = type;
    a->nla_len = NLA_HDRLEN + n;
    memcpy((char *)a + NLA_HDRLEN, data, n);
    return at;
}
static void u16a(struct buf *b, uint16_t t, uint16_t v) { attr(b, t, &v, 2); }
static void u32a(struct buf *b, uint16_t t, uint32_t v) { attr(b, t, &v, 4); }
static size_t nest(struct buf *b, uint16_t t) { return attr(b, t, NULL, 0); }
static void end_nest(struct buf *b, size_t at) { ((struct nlattr *)(b->p + at))->nla_len = b->len - at; }

static size_t msg(struct buf *b, uint16_t type, uint16_t flags, uint8_t cmd) {
    size_t at = b->len;
    struct nlmsghdr *h = grow(b, NLMSG_HDRLEN + GENL_HDRLEN);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | flags;
    h->nlmsg_seq = ++seq;
    struct genlmsghdr *g = (struct genlmsghdr *)((char *)h + NLMSG_HDRLEN);
    g->cmd = cmd;
    g->version = 1;
    return at;
}
static void end_msg(struct buf *b, size_t at) { ((struct nlmsghdr *)(b->p + at))->nlmsg_len = b->len - at; }

static void service_id(struct buf *b, uint32_t i) {
    unsigned char addr[16] = {192, 0, 2, (unsigned char)(i % 250 + 1)};
    uint16_t port = htons((uint16_t)(1000 + i / 250));
    u16a(b, SVC_AF, AF_INET_);
    u16a(b, SVC_PROTOCOL, TCP);
    attr(b, SVC_ADDR, addr, 16);
    attr(b, SVC_PORT, &port, 2);
}

/* Every request of the table, in order: each service, then its four destinations. */
static void encode_table(struct buf *b, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        size_t m = msg(b, family, 0, CMD_NEW_SERVICE);
        size_t s = nest(b, ATTR_SERVICE);
        service_id(b, i);
        attr(b, SVC_SCHED, "wrr", 4);
        uint32_t flags[2] = {0, 0xffffffff};
        attr(b, SVC_FLAGS, flags, 8);
        u32a(b, SVC_TIMEOUT, 0);
        u32a(b, SVC_NETMASK, 0xffffffff);
        end_nest(b, s);
        end_msg(b, m);
        for (uint32_t d = 1; d <= 4; d++) {
            m = msg(b, family, 0, CMD_NEW_DEST);
            s = nest(b, ATTR_SERVICE);
            service_id(b, i);
            end_nest(b, s);
            size_t dn = nest(b, ATTR_DEST);
            unsigned char addr[16] = {198, 51, 100, (unsigned char)d};
            uint16_t port = htons(80);
            u16a(b, DST_AF, AF_INET_);
            attr(b, DST_ADDR, addr, 16);
            attr(b, DST_PORT, &port, 2);
            u32a(b, DST_FWD, 0);
            u32a(b, DST_WEIGHT, d);
            u32a(b, DST_UTHRESH, 0);
            u32a(b, DST_LTHRESH, 0);
            end_nest(b, dn);
            end_msg(b, m);
        }
    }
}

/* Walks a datagram: counts error replies (code != 0) into *errors, and data messages into
 * *data; returns 1 if it ends the exchange for `until` (its ACK or error, or DONE). */
static int walk(const char *p, ssize_t n, uint32_t until, int *errors, int *data) {
    int done = 0;
    for (const struct nlmsghdr *h = (const void *)p; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_DONE) {
            done = 1;
        } else if (h->nlmsg_type == NLMSG_ERROR) {
            const struct nlmsgerr *e = NLMSG_DATA(h);
            if (e->error) {
                if (*errors < 3) fprintf(stderr, "floor-probe: request %u: errno %d\n", h->nlmsg_seq, -e->error);
                (*errors)++;
            }
            if (h->nlmsg_seq == until) done = 1;
        } else if (data) {
            (*data)++;
        }
    }
    return done;
}

static char rx[1 << 20];

/* Sends one request and reads until its end: returns the data messages (a dump's entries). */
static int exchange(struct buf *b, uint32_t until, int *errors) {
    int data = 0;
    if (send(sock, b->p, b->len, 0) < 0) die("send");
    for (;;) {
        ssize_t n = recv(sock, rx, sizeof rx, 0);
        if (n < 0) die("recv");
        if (walk(rx, n, until, errors, &data)) return data;
    }
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Sends the table in batches, then the barrier: the time it took. */
static double write_table(const struct buf *table, int *errors) {
    struct buf barrier = {0};
    size_t m = msg(&barrier, family, NLM_F_ACK, CMD_GET_INFO);
    end_msg(&barrier, m);
    uint32_t until = seq;
    double start = now();
    size_t at = 0;
    while (at < table->len) {
        size_t end = at;
        while (end < table->len) {
            const struct nlmsghdr *h = (const void *)(table->p + end);
            size_t len = NLMSG_ALIGN(h->nlmsg_len);
            if (end > at && end + len - at > BATCH) break;
            end += len;
        }
        if (send(sock, table->p + at, end - at, 0) < 0) die("send");
        for (;;) {
            ssize_t n = recv(sock, rx, sizeof rx, MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (n < 0) die("recv");
            walk(rx, n, 0, errors, NULL);
        }
        at = end;
    }
    exchange(&barrier, until, errors);
    double took = now() - start;
    free(barrier.p);
    return took;
}

static int count_services(void) {
    struct buf b = {0};
    size_t m = msg(&b, family, NLM_F_DUMP, CMD_GET_SERVICE);
    end_msg(&b, m);
    int errors = 0, n = exchange(&b, seq, &errors);
    free(b.p);
    return errors ? -1 : n;
}

static void resolve_family(void) {
    struct buf b = {0};
    size_t m = msg(&b, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY);
    attr(&b, CTRL_ATTR_FAMILY_NAME, "IPVS", 5);
    end_msg(&b, m);
    if (send(sock, b.p, b.len, 0) < 0) die("send");
    free(b.p);
    for (;;) {
        ssize_t n = recv(sock, rx, sizeof rx, 0);
        if (n < 0) die("recv");
        for (struct nlmsghdr *h = (void *)rx; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_ERROR) {
                errno = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
                if (errno) die("resolving the IPVS family");
                if (!family) die("no IPVS family id in the reply");
                return;
            }
            if (h->nlmsg_type != GENL_ID_CTRL) continue;
            int len = h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
            struct nlattr *a = (void *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
            while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
                if ((a->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) memcpy(&family, (char *)a + NLA_HDRLEN, 2);
                len -= NLA_ALIGN(a->nla_len);
                a = (void *)((char *)a + NLA_ALIGN(a->nla_len));
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || atoi(argv[1]) <= 0) {
        fprintf(stderr, "usage: floor-probe SERVICES [after-flush]\n");
        return 2;
    }
    uint32_t n = (uint32_t)atoi(argv[1]);
    int after_flush = argc > 2 && strcmp(argv[2], "after-flush") == 0;
    if (unshare(CLONE_NEWNET) < 0) die("unshare(CLONE_NEWNET)");
    /* With its loopback down, a namespace has no route, and the kernel refuses every
     * destination as not unicast. */
    int ifs = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr = {0};
    strcpy(ifr.ifr_name, "lo");
    if (ifs < 0 || ioctl(ifs, SIOCGIFFLAGS, &ifr) < 0) die("lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(ifs, SIOCSIFFLAGS, &ifr) < 0) die("lo up");
    close(ifs);
    sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (sock < 0) die("socket");
    int size = 4 << 20;
    if (setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0) die("SO_SNDBUFFORCE");
    if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) die("SO_RCVBUFFORCE");
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    if (bind(sock, (struct sockaddr *)&local, sizeof local) < 0) die("bind");
    resolve_family();

    struct buf table = {0};
    encode_table(&table, n);
    int errors = 0;
    double fresh = write_table(&table, &errors);
    int services = count_services();
    if (errors || services != (int)n) {
        fprintf(stderr, "floor-probe: %d requests failed; the kernel holds %d services of %u\n", errors, services, n);
        return 1;
    }
    printf("floor-probe %ux4: fresh namespace %.2f s", n, fresh);
    if (after_flush) {
        struct buf f = {0};
        size_t m = msg(&f, family, NLM_F_ACK, CMD_FLUSH);
        end_msg(&f, m);
        exchange(&f, seq, &errors);
        free(f.p);
        double again = write_table(&table, &errors);
        services = count_services();
        if (errors || services != (int)n) {
            fprintf(stderr, "\nfloor-probe: after the flush, %d requests failed; the kernel holds %d services\n", errors, services);
            return 1;
        }
        printf(" | after a flush %.2f s", again);
    }
    printf("\n");
    free(table.p);
    return 0;
}
