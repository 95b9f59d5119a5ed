/*
 * virtio-net's control commands (virtio/net_ctrl.c) without a VM: each
 * command's answer, what it changes, malformed commands refused with
 * nothing changed, and the receive filter's decisions.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "virtio/net_ctrl.h"

static uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static struct net_ctrl ctrl;
static struct virtq_chain chain;
static uint8_t cmd[2048], ack;

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x99, 0x99, 0x99 };
static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

static void fresh(void)
{
	memset(&ctrl, 0, sizeof(ctrl));
	ctrl.mac = mac;
	net_ctrl_reset(&ctrl);
}

/* Runs the len-byte command in cmd as a chain of a readable and a
 * one-byte writable segment; the answer, or -1 if none was written. */
static int run(size_t len)
{
	chain = (struct virtq_chain){ .nread = 1, .nwrite = 1, .read_len = len, .write_len = 1 };
	chain.iov[0] = (struct iovec){ cmd, len };
	chain.iov[1] = (struct iovec){ &ack, 1 };
	ack = 0xee;
	return net_ctrl_run(&ctrl, &chain) == 1 ? ack : -1;
}

static int rx(uint8_t command, uint8_t on)
{
	cmd[0] = 0, cmd[1] = command, cmd[2] = on;
	return run(3);
}

/* TABLE_SET with nuni unicast entries (other) and nmulti multicast (mcast). */
static size_t table_set(uint32_t nuni, uint32_t nmulti)
{
	size_t off = 2;

	cmd[0] = 1, cmd[1] = 0;
	memcpy(cmd + off, &nuni, 4), off += 4;
	for (uint32_t i = 0; i < nuni; i++, off += 6)
		memcpy(cmd + off, other, 6);
	memcpy(cmd + off, &nmulti, 4), off += 4;
	for (uint32_t i = 0; i < nmulti; i++, off += 6)
		memcpy(cmd + off, mcast, 6);
	return off;
}

static void promiscuous_until_told(void)
{
	fresh();
	CHECK(net_rx_wanted(&ctrl, other));
	CHECK_EQ(rx(0, 0), 0);                    /* PROMISC off */
	CHECK(!net_rx_wanted(&ctrl, other));
	CHECK(net_rx_wanted(&ctrl, mac));
	CHECK(net_rx_wanted(&ctrl, bcast));
	CHECK(!net_rx_wanted(&ctrl, mcast));
	CHECK_EQ(rx(1, 1), 0);                    /* ALLMULTI on */
	CHECK(net_rx_wanted(&ctrl, mcast));
	CHECK_EQ(rx(5, 1), 0);                    /* NOBCAST on */
	CHECK(!net_rx_wanted(&ctrl, bcast));
	CHECK_EQ(rx(4, 1), 0);                    /* NOUNI: not even its own MAC */
	CHECK(!net_rx_wanted(&ctrl, mac));
	CHECK_EQ(rx(6, 1), 1);                    /* no such command */
	cmd[0] = 0, cmd[1] = 0;
	CHECK_EQ(run(2), 1);                      /* no on/off byte */
	CHECK_EQ(run(4), 1);                      /* one too many */
	CHECK_EQ(ctrl.commands, 7);
	CHECK_EQ(ctrl.refused, 3);
}

static void mac_tables(void)
{
	fresh();
	rx(0, 0);
	CHECK_EQ(run(table_set(1, 1)), 0);
	CHECK_EQ(ctrl.filter.nuni, 1);
	CHECK_EQ(ctrl.filter.nmulti, 1);
	CHECK(net_rx_wanted(&ctrl, other));
	CHECK(net_rx_wanted(&ctrl, mcast));
	CHECK_EQ(run(table_set(0, 0)), 0);
	CHECK(!net_rx_wanted(&ctrl, other));
	/* More than kept: that kind all taken. */
	CHECK_EQ(run(table_set(NET_MAC_TABLE + 1, 0)), 0);
	CHECK(ctrl.filter.uni_overflow);
	CHECK(net_rx_wanted(&ctrl, (const uint8_t[6]){ 0x52, 0x54, 0, 1, 2, 3 }));
}

static void malformed_tables_change_nothing(void)
{
	size_t len;

	fresh();
	rx(0, 0);
	CHECK_EQ(run(table_set(1, 1)), 0);
	len = table_set(0, 0);
	CHECK_EQ(run(len - 1), 1);                /* the multicast count cut short */
	CHECK_EQ(run(len + 1), 1);                /* a byte after the tables */
	memset(cmd + 2, 0xff, 4);                 /* 4 billion entries claimed */
	CHECK_EQ(run(len), 1);
	CHECK_EQ(ctrl.filter.nuni, 1);
	CHECK(net_rx_wanted(&ctrl, other));
}

static void mac_address_and_announce(void)
{
	const uint8_t set[6] = { 0x02, 0, 0, 0, 0, 7 };

	fresh();
	cmd[0] = 1, cmd[1] = 1;
	memcpy(cmd + 2, set, 6);
	CHECK_EQ(run(8), 0);
	CHECK(!memcmp(mac, set, 6));
	CHECK_EQ(run(7), 1);
	cmd[0] = 3, cmd[1] = 0;
	CHECK_EQ(run(2), 1);                      /* nothing announced yet */
	ctrl.announcing = true;
	CHECK_EQ(run(2), 0);
	CHECK(!ctrl.announcing);
	cmd[0] = 9;
	CHECK_EQ(run(2), 1);                      /* no such class */
}

static void no_room_for_the_answer(void)
{
	fresh();
	cmd[0] = 0, cmd[1] = 0, cmd[2] = 0;
	chain = (struct virtq_chain){ .nread = 1, .read_len = 3 };
	chain.iov[0] = (struct iovec){ cmd, 3 };
	CHECK_EQ(net_ctrl_run(&ctrl, &chain), 0);
	CHECK(ctrl.filter.promisc);               /* not run */
}

int main(void)
{
	RUN(promiscuous_until_told);
	RUN(mac_tables);
	RUN(malformed_tables_change_nothing);
	RUN(mac_address_and_announce);
	RUN(no_room_for_the_answer);
	return check_failures ? 1 : 0;
}
