/*
 * virtio-net's control queue (virtio 1.2, 5.1.6.5): the receive filter the
 * driver programs (promiscuous and all-multicast modes, the unicast and
 * multicast MAC tables), the MAC address it sets, and its acknowledgement
 * of an announcement.  Pure: no queue, no lock; virtio/net.c feeds it the
 * commands it pops and asks it which frames the guest wants.
 */
#ifndef SHRIKE_VIRTIO_NET_CTRL_H
#define SHRIKE_VIRTIO_NET_CTRL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/stream.h"
#include "virtio/queue.h"

#define NET_F_CTRL_VQ        17
#define NET_F_CTRL_RX        18
#define NET_F_CTRL_RX_EXTRA  20
#define NET_F_GUEST_ANNOUNCE 21
#define NET_F_CTRL_MAC_ADDR  23

#define NET_S_LINK_UP  1
#define NET_S_ANNOUNCE 2

#define NET_MAC_TABLE 64               /* entries kept; more: that kind all accepted */

struct net_rx_filter {
	bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
	bool uni_overflow, multi_overflow;
	unsigned nuni, nmulti;
	uint8_t uni[NET_MAC_TABLE][6], multi[NET_MAC_TABLE][6];
};

/* What the commands change: the filter, the configuration's MAC (the
 * device's own, pointed to), an announcement asked for. */
struct net_ctrl {
	struct net_rx_filter filter;
	uint8_t *mac;
	bool announcing;               /* NET_S_ANNOUNCE set, the driver's ACK awaited */
	uint64_t commands, refused;
};

/* As at the device's reset: promiscuous (as QEMU: a driver without the
 * control queue gets every frame), tables empty, no announcement. */
void net_ctrl_reset(struct net_ctrl *c);

/* Runs the command in chain ch's readable part (class, command, data) and
 * writes its answer (VIRTIO_NET_OK or _ERR) into the first writable byte;
 * returns the bytes written (0 if the chain has no room for the answer). */
uint32_t net_ctrl_run(struct net_ctrl *c, struct virtq_chain *ch);

/* The filter and a pending announcement, in a snapshot (the driver does
 * not program them again); a load refuses tables larger than kept. */
void net_ctrl_save(const struct net_ctrl *c, struct snap_writer *w);
bool net_ctrl_load(struct net_ctrl *c, struct snap_reader *r);

/* Does the guest want a frame (from its Ethernet header on) sent to dst? */
bool net_rx_wanted(const struct net_ctrl *c, const uint8_t *dst);

#endif
