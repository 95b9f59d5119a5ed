/*
 * virtio-net (virtio 1.2, 5.1) on a tap device: one receive, one transmit
 * and a control queue, the MAC address and link status in the configuration,
 * the virtio-net header passed through to the tap (IFF_VNET_HDR, 12 bytes,
 * the virtio 1 layout), so checksum offload and TSO work both ways, and
 * mergeable receive buffers; a control queue (virtio/net_ctrl.c) for the
 * receive filter, the MAC address and announcements (after a restore the
 * guest is asked to announce itself: gratuitous ARP, as after QEMU's
 * migration).
 *
 * Both directions run on the device's I/O thread: transmit when the driver
 * notifies the transmit queue (each chain goes to the tap in one writev,
 * straight from guest memory); receive when the tap is readable and the
 * driver has posted buffers (the thread stops polling the tap while it has
 * none, and a notification of the receive queue starts it again).  A frame
 * is read from the tap into a staging buffer, then spread over as many
 * receive buffers as it needs (num_buffers in its header).
 *
 * The tap is the user's: named (TUNSETIFF on /dev/net/tun, so it must
 * exist or shrike must be allowed to create it) or an open descriptor
 * passed in (`tap-fd:N`, as libvirt does).  What the tap may hand the
 * guest (TUNSETOFFLOAD) follows the features the driver accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/log.h"
#include "core/vm.h"
#include "hw/devices.h"
#include "base/stream.h"
#include "virtio/net_ctrl.h"
#include "virtio/virtio.h"

#define NET_F_CSUM       0
#define NET_F_GUEST_CSUM 1
#define NET_F_MAC        5
#define NET_F_GUEST_TSO4 7
#define NET_F_GUEST_TSO6 8
#define NET_F_GUEST_ECN  9
#define NET_F_HOST_TSO4  11
#define NET_F_HOST_TSO6  12
#define NET_F_HOST_ECN   13
#define NET_F_MRG_RXBUF  15
#define NET_F_STATUS     16

#define RXQ   0
#define TXQ   1
#define CTRLQ 2

#define HDR_LEN    12u                  /* struct virtio_net_hdr_v1 */
#define FRAME_MAX  (HDR_LEN + 65550u)   /* the largest GSO frame the tap hands over */
#define QUEUE_MAX  256

struct net_config {            /* 5.1.4, little endian */
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

/* A receive buffer taken for the frame being delivered. */
struct rx_buf {
	uint16_t head;
	unsigned first, niov;          /* its writable segments in net.iov */
	size_t room;                   /* their bytes */
};

struct net {
	struct virtio_dev *vd;
	const struct net_backend_config *cfg;
	int tap;
	struct net_config config;
	uint8_t mac0[6];               /* the card's own MAC (the driver may set another) */
	struct net_ctrl ctrl;
	bool announce;                 /* restored: ask the guest to announce itself */
	uint64_t announces;
	unsigned offloads;             /* TUNSETOFFLOAD flags in force */
	bool offloads_set;
	bool rx_blocked;               /* a frame waits for receive buffers */
	size_t pending;                /* bytes of that frame in `frame` */
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, rx_dropped, tx_dropped, rx_filtered;
	struct virtq_chain chain;
	struct iovec iov[VIRTQ_MAX_SEGS];
	struct rx_buf bufs[QUEUE_MAX];
	uint8_t frame[FRAME_MAX];
};

static bool running(const struct virtio_dev *vd, unsigned q)
{
	return (vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       vd->vq[q].enabled && !vd->vq[q].broken;
}

/* ---- transmit ---- */

/* One chain to the tap, straight from guest memory; nothing written back. */
static uint32_t send_frame(void *dev, struct virtq_chain *c)
{
	struct net *n = dev;

	/* A frame is the header and at least an Ethernet header. */
	if (!(n->config.status & NET_S_LINK_UP)) {
		n->tx_dropped++;               /* a cable pulled: nothing goes out */
	} else if (c->read_len < HDR_LEN + 14 || c->read_len > FRAME_MAX) {
		log_guest(&n->vd->rl, "virtio-net: a %zu-byte frame to send, dropped", c->read_len);
		n->tx_dropped++;
	} else if (writev(n->tap, c->iov, (int)c->nread) < 0) {
		n->tx_dropped++;               /* the tap's queue is full: as a wire would */
	} else {
		n->tx_frames++;
		n->tx_bytes += c->read_len - HDR_LEN;
	}
	return 0;
}

static void transmit(struct net *n, struct virtio_dev *vd)
{
	if (running(vd, TXQ))
		virtio_serve_queue(vd, TXQ, &n->chain, send_frame, n);
}

/* ---- receive ---- */

/* What the tap may hand over: only what the driver said it takes. */
static void apply_offloads(struct net *n, struct virtio_dev *vd)
{
	unsigned want = 0;

	if (virtio_has(vd, NET_F_GUEST_CSUM)) {
		want |= TUN_F_CSUM;
		if (virtio_has(vd, NET_F_GUEST_TSO4))
			want |= TUN_F_TSO4;
		if (virtio_has(vd, NET_F_GUEST_TSO6))
			want |= TUN_F_TSO6;
		if ((want & (TUN_F_TSO4 | TUN_F_TSO6)) && virtio_has(vd, NET_F_GUEST_ECN))
			want |= TUN_F_TSO_ECN;
	}
	if (n->offloads_set && want == n->offloads)
		return;
	if (ioctl(n->tap, TUNSETOFFLOAD, (unsigned long)want) < 0)
		log_limited(&vd->rl, "virtio-net: TUNSETOFFLOAD 0x%x: %s", want, strerror(errno));
	n->offloads = want;
	n->offloads_set = true;
}

/* Takes receive buffers until their room holds the staged frame (one
 * buffer without mergeable buffers): their writable segments end up in
 * n->iov, their heads and segment counts in bufs.  The number taken, 0 if
 * the driver has not posted enough yet (nothing is kept), -1 if the ring
 * is malformed. */
static int take_buffers(struct net *n, struct virtio_dev *vd, struct rx_buf *bufs)
{
	struct virtqueue *q = &vd->vq[RXQ];
	unsigned max = virtio_has(vd, NET_F_MRG_RXBUF) ? q->size : 1, taken = 0, niov = 0;
	size_t room = 0;
	char err[160];

	while (room < n->pending && taken < max) {
		struct virtq_chain *c = &n->chain;
		int r = virtq_pop(q, &vd->vm->mem, c, err, sizeof(err));

		if (r < 0) {
			virtio_needs_reset(vd, err);
			return -1;
		}
		if (r == 0 || niov + c->nwrite > VIRTQ_MAX_SEGS) {
			virtq_unpop(q, taken + (unsigned)r);
			return 0;
		}
		if (!taken && c->write_len < HDR_LEN) {
			virtio_needs_reset(vd, "a receive buffer smaller than the virtio-net header");
			return -1;
		}
		memcpy(&n->iov[niov], &c->iov[c->nread], c->nwrite * sizeof(struct iovec));
		bufs[taken++] = (struct rx_buf){ .head = c->head, .first = niov, .niov = c->nwrite,
						 .room = c->write_len };
		niov += c->nwrite;
		room += c->write_len;
	}
	return (int)taken;
}

/* Copies [off, off + len) of the staged frame into buffer b's segments. */
static void fill(struct net *n, const struct rx_buf *b, size_t off, size_t len)
{
	for (unsigned i = b->first; i < b->first + b->niov && len; i++) {
		size_t l = n->iov[i].iov_len < len ? n->iov[i].iov_len : len;

		memcpy(n->iov[i].iov_base, n->frame + off, l);
		off += l;
		len -= l;
	}
}

/* The staged frame to the driver: true when it is done with (delivered,
 * or dropped as too large for the buffers the driver posts), false when
 * it must wait for more buffers. */
static bool deliver(struct net *n, struct virtio_dev *vd)
{
	struct virtqueue *q = &vd->vq[RXQ];
	int taken = take_buffers(n, vd, n->bufs);
	size_t room = 0, off = 0;
	uint16_t nb;

	if (taken < 0)
		return true;
	if (taken == 0)
		return false;
	for (int i = 0; i < taken; i++)
		room += n->bufs[i].room;
	if (room < n->pending) {
		/* One buffer too small (without mergeable buffers), or a whole
		 * ring too small: the frame is lost, the buffers kept. */
		virtq_unpop(q, (unsigned)taken);
		n->rx_dropped++;
		return true;
	}
	nb = (uint16_t)taken;
	memcpy(n->frame + 10, &nb, sizeof(nb));          /* num_buffers */
	for (int i = 0; i < taken; i++) {
		size_t len = n->pending - off;

		if (len > n->bufs[i].room)
			len = n->bufs[i].room;
		fill(n, &n->bufs[i], off, len);
		virtq_push(q, &vd->vm->mem, n->bufs[i].head, (uint32_t)len);
		off += len;
	}
	n->rx_frames++;
	n->rx_bytes += n->pending - HDR_LEN;
	return true;
}

/* Frames from the tap while the driver has buffers for them. */
static void receive(struct net *n, struct virtio_dev *vd)
{
	struct virtqueue *q = &vd->vq[RXQ];
	bool delivered = false;

	if (!running(vd, RXQ))
		return;
	apply_offloads(n, vd);
	for (;;) {
		if (!n->pending) {
			ssize_t r = read(n->tap, n->frame, FRAME_MAX);

			if (r < 0)
				break;                 /* EAGAIN: nothing more for now */
			if ((size_t)r < HDR_LEN + 14 || !(n->config.status & NET_S_LINK_UP)) {
				n->rx_dropped++;       /* a runt, or the link is down */
				continue;
			}
			if (!net_rx_wanted(&n->ctrl, n->frame + HDR_LEN)) {
				n->rx_filtered++;      /* not for this card's filter */
				continue;
			}
			n->pending = (size_t)r;
		}
		if (!deliver(n, vd)) {
			/* Wait for more buffers; look again if some came meanwhile. */
			if (!virtq_more_after_next_notify(q)) {
				n->rx_blocked = true;
				break;
			}
			continue;
		}
		n->pending = 0;
		delivered = true;
		if (!running(vd, RXQ))
			break;
	}
	if (delivered)
		virtio_queue_done(vd, q);
}

/* ---- control ---- */

static uint32_t run_command(void *dev, struct virtq_chain *c)
{
	struct net *n = dev;

	return net_ctrl_run(&n->ctrl, c);
}

/* Linux spins for each answer (bottom halves off): every command is
 * answered now, and the next one notified (virtio_serve_queue). */
static void control(struct net *n, struct virtio_dev *vd)
{
	if (!running(vd, CTRLQ))
		return;
	virtio_serve_queue(vd, CTRLQ, &n->chain, run_command, n);
	if (!n->ctrl.announcing)
		n->config.status &= (uint16_t)~NET_S_ANNOUNCE;     /* acknowledged */
}

static void handle_queue(void *dev, struct virtio_dev *vd, unsigned q)
{
	struct net *n = dev;

	if (q == TXQ) {
		transmit(n, vd);
	} else if (q == CTRLQ) {
		control(n, vd);
	} else {
		n->rx_blocked = false;         /* new buffers: the tap may be read again */
		receive(n, vd);
	}
}

/* The I/O thread polls the tap only while frames can go somewhere. */
static int tap_fd(void *dev)
{
	return ((struct net *)dev)->tap;
}

static short tap_events(void *dev, const struct virtio_dev *vd)
{
	const struct net *n = dev;

	/* Not while a save or a restore holds the device (vd->paused). */
	return running(vd, RXQ) && !n->rx_blocked && !vd->paused ? POLLIN : 0;
}

static void tap_ready(void *dev, struct virtio_dev *vd)
{
	receive(dev, vd);
}

static void net_dev_reset(void *dev)
{
	struct net *n = dev;

	n->pending = 0;                /* a staged frame is lost, as on a wire */
	n->rx_blocked = false;
	n->offloads_set = false;
	memcpy(n->config.mac, n->mac0, sizeof(n->mac0));
	n->config.status &= NET_S_LINK_UP;
	net_ctrl_reset(&n->ctrl);
}

static void config_read(void *dev, unsigned off, void *buf, unsigned n)
{
	struct net *nd = dev;

	memcpy(buf, (const uint8_t *)&nd->config + off, n);
}

static const struct virtio_ops net_ops = {
	.name = "virtio-net",
	.device_id = 1,
	.pci_class = 0x020000,
	.queue_max = QUEUE_MAX,
	.features = 1ull << NET_F_CSUM | 1ull << NET_F_GUEST_CSUM | 1ull << NET_F_MAC |
		    1ull << NET_F_GUEST_TSO4 | 1ull << NET_F_GUEST_TSO6 | 1ull << NET_F_GUEST_ECN |
		    1ull << NET_F_HOST_TSO4 | 1ull << NET_F_HOST_TSO6 | 1ull << NET_F_HOST_ECN |
		    1ull << NET_F_MRG_RXBUF | 1ull << NET_F_STATUS | 1ull << NET_F_CTRL_VQ |
		    1ull << NET_F_CTRL_RX | 1ull << NET_F_CTRL_RX_EXTRA | 1ull << NET_F_GUEST_ANNOUNCE |
		    1ull << NET_F_CTRL_MAC_ADDR,
	.config_read = config_read,
	.config_size = sizeof(struct net_config),
	.handle_queue = handle_queue,
	.reset = net_dev_reset,
	.poll_fd = tap_fd,
	.poll_events = tap_events,
	.poll_ready = tap_ready,
};

/* QMP's set_link: the link bit in the configuration, and the driver told
 * (Linux sets the carrier from it).  While down, frames both ways are
 * dropped, as on a pulled cable. */
static int net_set_link(void *opaque, const char *name, bool up)
{
	struct net *n = opaque;
	uint16_t status;

	if (!n->vd || (strcmp(name, n->cfg->id) && (!n->cfg->ifname[0] ||
						      strcmp(name, n->cfg->ifname))))
		return -1;
	pthread_mutex_lock(&n->vd->lock);
	status = (uint16_t)((n->config.status & ~NET_S_LINK_UP) | (up ? NET_S_LINK_UP : 0));
	if (status != n->config.status) {
		n->config.status = status;
		virtio_config_changed(n->vd);
	}
	pthread_mutex_unlock(&n->vd->lock);
	return 0;
}

/* ---- the tap ---- */

static int open_tap(struct net *n)
{
	const struct net_backend_config *c = n->cfg;
	int hdr = HDR_LEN, fl;
	struct ifreq ifr;

	if (c->fd >= 0) {
		n->tap = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
		if (n->tap < 0) {
			log_error("--net tap-fd:%d: %s", c->fd, strerror(errno));
			return -1;
		}
		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(n->tap, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_TAP) ||
		    !(ifr.ifr_flags & IFF_VNET_HDR)) {
			log_error("--net tap-fd:%d: not a tap opened with IFF_TAP and IFF_VNET_HDR",
				  c->fd);
			return -1;
		}
	} else {
		n->tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (n->tap < 0) {
			log_error("--net tap:%s: /dev/net/tun: %s", c->ifname, strerror(errno));
			return -1;
		}
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", c->ifname);
		if (ioctl(n->tap, TUNSETIFF, &ifr) < 0) {
			log_error("--net tap:%s: %s", c->ifname,
				  errno == EPERM ? "not allowed (create the tap for this user first: "
						   "ip tuntap add NAME mode tap user USER)"
						 : strerror(errno));
			return -1;
		}
	}
	if (ioctl(n->tap, TUNSETVNETHDRSZ, &hdr) < 0) {
		log_error("--net %s: TUNSETVNETHDRSZ: %s", c->spec, strerror(errno));
		return -1;
	}
	fl = fcntl(n->tap, F_GETFL);
	if (fl < 0 || fcntl(n->tap, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_error("--net %s: cannot make it non-blocking: %s", c->spec, strerror(errno));
		return -1;
	}
	/* Nothing offloaded towards the guest until its driver says what it
	 * takes (apply_offloads). */
	if (ioctl(n->tap, TUNSETOFFLOAD, 0ul) < 0) {
		log_error("--net %s: TUNSETOFFLOAD: %s", c->spec, strerror(errno));
		return -1;
	}
	return 0;
}

/* The MAC given, or QEMU's prefix 52:54:00 and three bytes of the VM's
 * UUID, the card's number added: stable for a VM started with --uuid. */
static void set_mac(struct net *n, const struct vm *vm, unsigned index)
{
	uint8_t *mac = n->config.mac;

	if (n->cfg->mac_set) {
		memcpy(mac, n->cfg->mac, 6);
		return;
	}
	mac[0] = 0x52, mac[1] = 0x54, mac[2] = 0x00;
	mac[3] = vm->uuid[13];
	mac[4] = vm->uuid[14];
	mac[5] = (uint8_t)(vm->uuid[15] + index);
}

static void net_destroy(void *opaque)
{
	struct net *n = opaque;

	virtio_pci_destroy(n->vd);
	if (n->tap >= 0)
		close(n->tap);
	free(n);
}

static int net_create(struct vm *vm, const struct device_params *p)
{
	struct net *n = calloc(1, sizeof(*n));

	if (!n)
		return -1;
	n->cfg = p->config;
	n->tap = -1;
	if (vm_add_device(vm, &virtio_net_model, n)) {
		free(n);
		return -1;
	}
	if (open_tap(n))
		return -1;
	set_mac(n, vm, (unsigned)(n->cfg - vm->cfg.nets));
	memcpy(n->mac0, n->config.mac, sizeof(n->mac0));
	n->config.status = NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = 1;
	n->ctrl.mac = n->config.mac;
	net_ctrl_reset(&n->ctrl);
	n->vd = virtio_pci_create(vm, &net_ops, n, 3);
	return n->vd ? 0 : -1;
}

/* The transport, the card's own MAC (a restore must be given the same
 * card), its status, the MAC the driver set and its receive filter. */
static int net_save(void *opaque, struct snap_writer *w)
{
	struct net *n = opaque;

	virtio_pci_save(n->vd, w);
	snap_put(w, n->mac0, sizeof(n->mac0));
	snap_put_u16(w, n->config.status);
	snap_put(w, n->config.mac, sizeof(n->config.mac));
	net_ctrl_save(&n->ctrl, w);
	return w->sb.failed ? -1 : 0;
}

static int net_load(void *opaque, struct snap_reader *r)
{
	struct net *n = opaque;
	uint8_t mac0[6], mac[6];
	uint16_t status;

	if (virtio_pci_load(n->vd, r))
		return -1;
	snap_get(r, mac0, sizeof(mac0));
	status = snap_get_u16(r);
	snap_get(r, mac, sizeof(mac));
	if (!net_ctrl_load(&n->ctrl, r) || !snap_done(r) ||
	    (status & ~(NET_S_LINK_UP | NET_S_ANNOUNCE))) {
		log_error("--net %s: the snapshot's card state is malformed", n->cfg->spec);
		return -1;
	}
	if (memcmp(mac0, n->mac0, sizeof(mac0))) {
		log_error("--net %s: the snapshot's card had MAC %02x:%02x:%02x:%02x:%02x:%02x: "
			  "give the restore the cards the VM had", n->cfg->spec, mac0[0], mac0[1],
			  mac0[2], mac0[3], mac0[4], mac0[5]);
		return -1;
	}
	/* Frames in flight are gone; the tap's offloads are set again; the
	 * link is as the guest last saw it; the guest is asked to announce
	 * itself once the VM runs (net_resume). */
	memcpy(n->config.mac, mac, sizeof(mac));
	n->config.status = status;
	n->pending = 0;
	n->offloads_set = false;
	n->announce = virtio_has(n->vd, NET_F_GUEST_ANNOUNCE) && virtio_has(n->vd, NET_F_CTRL_VQ);
	return 0;
}

/* After a restore, as QEMU after a migration: the ANNOUNCE bit and a
 * configuration interrupt; Linux sends gratuitous ARPs (and IPv6
 * neighbour advertisements), so switches and peers learn where the
 * guest's MAC now is, and acknowledges on the control queue. */
static void net_resume(void *opaque)
{
	struct net *n = opaque;

	virtio_model_resume(opaque);
	if (!n->vd)
		return;
	pthread_mutex_lock(&n->vd->lock);
	if (n->announce && (n->vd->status & VIRTIO_STATUS_DRIVER_OK)) {
		n->config.status |= NET_S_ANNOUNCE;
		n->ctrl.announcing = true;
		n->announces++;
		virtio_config_changed(n->vd);
	}
	n->announce = false;
	pthread_mutex_unlock(&n->vd->lock);
}

static void net_stats(void *opaque, FILE *f)
{
	struct net *n = opaque;

	if (!n->vd)
		return;
	virtio_pci_stats(n->vd, f);
	pthread_mutex_lock(&n->vd->lock);
	fprintf(f, "    %s: received %llu frames (%llu bytes, %llu dropped), sent %llu frames "
		"(%llu bytes, %llu dropped)\n", n->cfg->spec, (unsigned long long)n->rx_frames,
		(unsigned long long)n->rx_bytes, (unsigned long long)n->rx_dropped,
		(unsigned long long)n->tx_frames, (unsigned long long)n->tx_bytes,
		(unsigned long long)n->tx_dropped);
	fprintf(f, "    receive filter: %s%s%s%s, %u unicast and %u multicast addresses, %llu frames "
		"filtered out; control: %llu commands, %llu refused; %llu announcements asked\n",
		n->ctrl.filter.promisc ? "promiscuous" : "own MAC",
		n->ctrl.filter.allmulti ? ", all multicast" : "",
		n->ctrl.filter.alluni ? ", all unicast" : "",
		n->ctrl.filter.nobcast ? ", no broadcast" : "", n->ctrl.filter.nuni,
		n->ctrl.filter.nmulti, (unsigned long long)n->rx_filtered,
		(unsigned long long)n->ctrl.commands, (unsigned long long)n->ctrl.refused,
		(unsigned long long)n->announces);
	if (n->rx_blocked || n->pending)
		fprintf(f, "    a %zu-byte frame waits for receive buffers%s\n", n->pending,
			n->rx_blocked ? " (the tap is not read until the driver posts some)" : "");
	pthread_mutex_unlock(&n->vd->lock);
}

const struct device_model virtio_net_model = {
	.name = "virtio-net",
	.create = net_create,
	.reset = virtio_model_reset,
	.quiesce = virtio_model_quiesce,
	.resume = net_resume,
	.save = net_save,
	.load = net_load,
	.stats = net_stats,
	.set_link = net_set_link,
	.destroy = net_destroy,
};
