/*
 * virtio-net's control queue commands and the receive filter they program
 * (virtio 1.2, 5.1.6.5; the filter's rules are QEMU's receive_filter: a
 * broadcast unless NOBCAST, a multicast by ALLMULTI or the multicast
 * table, a unicast to the card's MAC or one in the unicast table).
 */
#include <string.h>

#include "virtio/net_ctrl.h"

#define CLASS_RX       0
#define CLASS_MAC      1
#define CLASS_ANNOUNCE 3

#define RX_PROMISC  0
#define RX_ALLMULTI 1
#define RX_ALLUNI   2
#define RX_NOMULTI  3
#define RX_NOUNI    4
#define RX_NOBCAST  5

#define MAC_TABLE_SET 0
#define MAC_ADDR_SET  1

#define ANNOUNCE_ACK 0

#define NET_OK  0
#define NET_ERR 1

void net_ctrl_reset(struct net_ctrl *c)
{
	memset(&c->filter, 0, sizeof(c->filter));
	c->filter.promisc = true;
	c->announcing = false;
}

static uint8_t rx_mode(struct net_rx_filter *f, uint8_t cmd, const struct virtq_chain *ch)
{
	bool *flags[] = { &f->promisc, &f->allmulti, &f->alluni, &f->nomulti, &f->nouni,
			  &f->nobcast };
	uint8_t on;

	if (cmd > RX_NOBCAST || ch->read_len != 3 || virtq_read(ch, 2, &on, 1) != 1)
		return NET_ERR;
	*flags[cmd] = on != 0;
	return NET_OK;
}

/* One table of TABLE_SET at *off: its count, then its addresses (only the
 * first NET_MAC_TABLE kept; more set the overflow: that kind all taken). */
static bool read_table(const struct virtq_chain *ch, size_t *off, uint8_t (*macs)[6],
		       unsigned *n, bool *overflow)
{
	uint32_t entries;

	if (virtq_read(ch, *off, &entries, 4) != 4 || entries > (ch->read_len - *off - 4) / 6)
		return false;
	*off += 4;
	*overflow = entries > NET_MAC_TABLE;
	*n = *overflow ? 0 : entries;
	if (*n && virtq_read(ch, *off, macs, *n * 6u) != *n * 6u)
		return false;
	*off += (size_t)entries * 6;
	return true;
}

static uint8_t mac_command(struct net_ctrl *c, uint8_t cmd, const struct virtq_chain *ch)
{
	struct net_rx_filter t = c->filter;
	size_t off = 2;

	if (cmd == MAC_ADDR_SET) {
		if (ch->read_len != 2 + 6)
			return NET_ERR;
		virtq_read(ch, 2, c->mac, 6);
		return NET_OK;
	}
	if (cmd != MAC_TABLE_SET)
		return NET_ERR;
	/* Both tables, nothing after them; a malformed command changes nothing. */
	if (!read_table(ch, &off, t.uni, &t.nuni, &t.uni_overflow) ||
	    !read_table(ch, &off, t.multi, &t.nmulti, &t.multi_overflow) || off != ch->read_len)
		return NET_ERR;
	c->filter = t;
	return NET_OK;
}

uint32_t net_ctrl_run(struct net_ctrl *c, struct virtq_chain *ch)
{
	uint8_t hdr[2], ack = NET_ERR;

	if (!ch->write_len)
		return 0;
	c->commands++;
	if (virtq_read(ch, 0, hdr, 2) == 2) {
		if (hdr[0] == CLASS_RX)
			ack = rx_mode(&c->filter, hdr[1], ch);
		else if (hdr[0] == CLASS_MAC)
			ack = mac_command(c, hdr[1], ch);
		else if (hdr[0] == CLASS_ANNOUNCE && hdr[1] == ANNOUNCE_ACK && ch->read_len == 2 &&
			 c->announcing) {
			c->announcing = false;
			ack = NET_OK;
		}
	}
	c->refused += ack != NET_OK;
	return (uint32_t)virtq_write(ch, 0, &ack, 1);
}

static bool in_table(const uint8_t (*macs)[6], unsigned n, const uint8_t *dst)
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(macs[i], dst, 6))
			return true;
	return false;
}

bool net_rx_wanted(const struct net_ctrl *c, const uint8_t *dst)
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const struct net_rx_filter *f = &c->filter;

	if (f->promisc)
		return true;
	if (!memcmp(dst, broadcast, 6))
		return !f->nobcast;
	if (dst[0] & 1) {
		if (f->nomulti)
			return false;
		return f->allmulti || f->multi_overflow || in_table(f->multi, f->nmulti, dst);
	}
	if (f->nouni)
		return false;
	return f->alluni || f->uni_overflow || !memcmp(dst, c->mac, 6) ||
	       in_table(f->uni, f->nuni, dst);
}

static uint8_t filter_flags(const struct net_rx_filter *f)
{
	return (uint8_t)(f->promisc | f->allmulti << 1 | f->alluni << 2 | f->nomulti << 3 |
			 f->nouni << 4 | f->nobcast << 5 | f->uni_overflow << 6 |
			 f->multi_overflow << 7);
}

void net_ctrl_save(const struct net_ctrl *c, struct snap_writer *w)
{
	const struct net_rx_filter *f = &c->filter;

	snap_put_u8(w, filter_flags(f));
	snap_put_u8(w, c->announcing);
	snap_put_u8(w, (uint8_t)f->nuni);
	snap_put_u8(w, (uint8_t)f->nmulti);
	snap_put(w, f->uni, f->nuni * 6u);
	snap_put(w, f->multi, f->nmulti * 6u);
}

bool net_ctrl_load(struct net_ctrl *c, struct snap_reader *r)
{
	struct net_rx_filter f = { 0 };
	uint8_t flags = snap_get_u8(r), announcing = snap_get_u8(r);

	f.nuni = snap_get_u8(r);
	f.nmulti = snap_get_u8(r);
	if (f.nuni > NET_MAC_TABLE || f.nmulti > NET_MAC_TABLE || announcing > 1)
		return false;
	snap_get(r, f.uni, f.nuni * 6u);
	snap_get(r, f.multi, f.nmulti * 6u);
	f.promisc = flags & 1, f.allmulti = flags >> 1 & 1, f.alluni = flags >> 2 & 1;
	f.nomulti = flags >> 3 & 1, f.nouni = flags >> 4 & 1, f.nobcast = flags >> 5 & 1;
	f.uni_overflow = flags >> 6 & 1, f.multi_overflow = flags >> 7 & 1;
	c->filter = f;
	c->announcing = announcing;
	return true;
}
