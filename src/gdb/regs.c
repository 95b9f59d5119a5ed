#include "gdb/regs.h"

#include <stddef.h>
#include <string.h>

#include "base/strbuf.h"
#include "core/vcpu.h"
#include "core/vm.h"

#define MSR_KERNEL_GS_BASE 0xc0000102u

enum reg_kind { R_GPR, R_RFLAGS, R_SEL, R_ST, R_FPCTL, R_XMM, R_MXCSR, R_BASE, R_KGSBASE,
		R_CR, R_EFER };
enum fpctl { FCTRL, FSTAT, FTAG, FISEG, FIOFF, FOSEG, FOOFF, FOP };
enum feature { F_CORE, F_SSE, F_SEGMENTS, F_SYS, F_N };

struct reg {
	const char *name;
	unsigned bits;
	const char *type;
	const char *group;         /* NULL: gdb's default for the type */
	enum feature feature;
	enum reg_kind kind;
	unsigned arg;              /* offset, selector, index, ... */
};

#define GPR(n, f, t) { n, 64, t, NULL, F_CORE, R_GPR, offsetof(struct kvm_regs, f) }
#define SEL(n, f) { n, 32, "int32", NULL, F_CORE, R_SEL, offsetof(struct kvm_sregs2, f) }
#define ST(i) { "st" #i, 80, "i387_ext", NULL, F_CORE, R_ST, i }
#define FPC(n, w) { n, 32, "int", "float", F_CORE, R_FPCTL, w }
#define XMM(i) { "xmm" #i, 128, "vec128", NULL, F_SSE, R_XMM, i }
#define CR(n, f) { n, 64, "int64", "system", F_SYS, R_CR, offsetof(struct kvm_sregs2, f) }

static const struct reg regs[] = {
	GPR("rax", rax, "int64"), GPR("rbx", rbx, "int64"), GPR("rcx", rcx, "int64"),
	GPR("rdx", rdx, "int64"), GPR("rsi", rsi, "int64"), GPR("rdi", rdi, "int64"),
	GPR("rbp", rbp, "data_ptr"), GPR("rsp", rsp, "data_ptr"),
	GPR("r8", r8, "int64"), GPR("r9", r9, "int64"), GPR("r10", r10, "int64"),
	GPR("r11", r11, "int64"), GPR("r12", r12, "int64"), GPR("r13", r13, "int64"),
	GPR("r14", r14, "int64"), GPR("r15", r15, "int64"),
	GPR("rip", rip, "code_ptr"),
	{ "eflags", 32, "i386_eflags", NULL, F_CORE, R_RFLAGS, 0 },
	SEL("cs", cs), SEL("ss", ss), SEL("ds", ds), SEL("es", es), SEL("fs", fs), SEL("gs", gs),
	ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),
	FPC("fctrl", FCTRL), FPC("fstat", FSTAT), FPC("ftag", FTAG), FPC("fiseg", FISEG),
	FPC("fioff", FIOFF), FPC("foseg", FOSEG), FPC("fooff", FOOFF), FPC("fop", FOP),
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
	{ "mxcsr", 32, "i386_mxcsr", "vector", F_SSE, R_MXCSR, 0 },
	{ "fs_base", 64, "int", NULL, F_SEGMENTS, R_BASE, offsetof(struct kvm_sregs2, fs) },
	{ "gs_base", 64, "int", NULL, F_SEGMENTS, R_BASE, offsetof(struct kvm_sregs2, gs) },
	{ "k_gs_base", 64, "int64", "system", F_SYS, R_KGSBASE, 0 },
	CR("cr0", cr0), CR("cr2", cr2), CR("cr3", cr3), CR("cr4", cr4), CR("cr8", cr8),
	{ "efer", 64, "int64", "system", F_SYS, R_EFER, 0 },
};

#define NREGS (sizeof(regs) / sizeof(regs[0]))

unsigned gdb_reg_count(void)
{
	return NREGS;
}

unsigned gdb_reg_size(unsigned n)
{
	return n < NREGS ? regs[n].bits / 8 : 0;
}

static unsigned kind_classes(enum reg_kind k)
{
	switch (k) {
	case R_GPR:
	case R_RFLAGS:
		return CPU_MASK(CPU_REGS);
	case R_SEL:
	case R_BASE:
	case R_CR:
	case R_EFER:
		return CPU_MASK(CPU_SREGS);
	case R_ST:
	case R_FPCTL:
	case R_XMM:
	case R_MXCSR:
		return CPU_MASK(CPU_FPU);
	case R_KGSBASE:
		return CPU_MASK(CPU_MSRS);
	}
	return 0;
}

unsigned gdb_reg_classes(unsigned n)
{
	return n < NREGS ? kind_classes(regs[n].kind) : 0;
}

unsigned gdb_g_classes(void)
{
	unsigned m = 0;

	for (unsigned i = 0; i < GDB_G_REGS; i++)
		m |= gdb_reg_classes(i);
	return m;
}

/* ---- the x87/SSE state as an FXSAVE image ---- */

enum { FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8, FX_FDP = 16, FX_MXCSR = 24,
       FX_ST = 32, FX_XMM = 160, FX_SIZE = 512 };

/* Where the vCPU's FXSAVE image is: the start of the XSAVE area, or a
 * copy made from struct kvm_fpu (KVM without XSAVE). */
static uint8_t *fx_image(struct vcpu *v, uint8_t *tmp)
{
	const struct kvm_fpu *f = &v->state.fpu;

	if (v->state.xsave)
		return (uint8_t *)v->state.xsave->region;
	memset(tmp, 0, FX_SIZE);
	memcpy(tmp + FX_FCW, &f->fcw, 2);
	memcpy(tmp + FX_FSW, &f->fsw, 2);
	tmp[FX_FTW] = f->ftwx;
	memcpy(tmp + FX_FOP, &f->last_opcode, 2);
	memcpy(tmp + FX_FIP, &f->last_ip, 8);
	memcpy(tmp + FX_FDP, &f->last_dp, 8);
	memcpy(tmp + FX_MXCSR, &f->mxcsr, 4);
	for (unsigned i = 0; i < 8; i++)
		memcpy(tmp + FX_ST + 16 * i, f->fpr[i], 16);
	memcpy(tmp + FX_XMM, f->xmm, sizeof(f->xmm));
	return tmp;
}

static void fx_commit(struct vcpu *v, const uint8_t *img)
{
	struct kvm_fpu *f = &v->state.fpu;

	if (v->state.xsave)
		return;
	memcpy(&f->fcw, img + FX_FCW, 2);
	memcpy(&f->fsw, img + FX_FSW, 2);
	f->ftwx = img[FX_FTW];
	memcpy(&f->last_opcode, img + FX_FOP, 2);
	memcpy(&f->last_ip, img + FX_FIP, 8);
	memcpy(&f->last_dp, img + FX_FDP, 8);
	memcpy(&f->mxcsr, img + FX_MXCSR, 4);
	for (unsigned i = 0; i < 8; i++)
		memcpy(f->fpr[i], img + FX_ST + 16 * i, 16);
	memcpy(f->xmm, img + FX_XMM, sizeof(f->xmm));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, unsigned n, uint64_t v)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The full tag word from FXSAVE's abridged one: per physical register,
 * 3 empty, else 1 zero, 2 special (NaN, infinity, denormal, unnormal),
 * 0 valid.  The image holds the registers in stack order (ST0 first). */
static uint16_t full_tag_word(const uint8_t *img)
{
	unsigned top = (get_le(img + FX_FSW, 2) >> 11) & 7;
	uint16_t ftw = 0;

	for (unsigned phys = 0; phys < 8; phys++) {
		const uint8_t *st = img + FX_ST + 16 * ((phys - top) & 7);
		uint64_t mant = get_le(st, 8);
		unsigned exp = get_le(st + 8, 2) & 0x7fff, tag;

		if (!(img[FX_FTW] & (1u << phys)))
			tag = 3;
		else if (exp == 0x7fff)
			tag = 2;
		else if (exp == 0)
			tag = mant ? 2 : 1;
		else
			tag = (mant >> 63) ? 0 : 2;
		ftw |= (uint16_t)(tag << (2 * phys));
	}
	return ftw;
}

static uint8_t abridged_tag_word(uint16_t ftw)
{
	uint8_t t = 0;

	for (unsigned phys = 0; phys < 8; phys++)
		if (((ftw >> (2 * phys)) & 3) != 3)
			t |= (uint8_t)(1u << phys);
	return t;
}

static uint32_t fpctl_read(const uint8_t *img, enum fpctl w)
{
	switch (w) {
	case FCTRL: return (uint32_t)get_le(img + FX_FCW, 2);
	case FSTAT: return (uint32_t)get_le(img + FX_FSW, 2);
	case FTAG:  return full_tag_word(img);
	case FISEG: return (uint32_t)(get_le(img + FX_FIP + 4, 4) & 0xffff);
	case FIOFF: return (uint32_t)get_le(img + FX_FIP, 4);
	case FOSEG: return (uint32_t)(get_le(img + FX_FDP + 4, 4) & 0xffff);
	case FOOFF: return (uint32_t)get_le(img + FX_FDP, 4);
	case FOP:   return (uint32_t)(get_le(img + FX_FOP, 2) & 0x7ff);
	}
	return 0;
}

static void fpctl_write(uint8_t *img, enum fpctl w, uint32_t v)
{
	switch (w) {
	case FCTRL: put_le(img + FX_FCW, 2, v); break;
	case FSTAT: put_le(img + FX_FSW, 2, v); break;
	case FTAG:  img[FX_FTW] = abridged_tag_word((uint16_t)v); break;
	case FISEG: put_le(img + FX_FIP + 4, 4, v & 0xffff); break;
	case FIOFF: put_le(img + FX_FIP, 4, v); break;
	case FOSEG: put_le(img + FX_FDP + 4, 4, v & 0xffff); break;
	case FOOFF: put_le(img + FX_FDP, 4, v); break;
	case FOP:   put_le(img + FX_FOP, 2, v & 0x7ff); break;
	}
}

/* ---- access ---- */

static struct kvm_segment *segment_at(struct vcpu *v, unsigned off)
{
	return (struct kvm_segment *)((uint8_t *)&v->state.sregs + off);
}

static uint64_t *u64_at(void *base, unsigned off)
{
	return (uint64_t *)((uint8_t *)base + off);
}

void gdb_reg_read(struct vcpu *v, unsigned n, uint8_t *out)
{
	const struct reg *r = &regs[n];
	uint8_t tmp[FX_SIZE], *img;
	uint64_t val = 0;

	switch (r->kind) {
	case R_GPR:    val = *u64_at(v->state.regs, r->arg); break;
	case R_RFLAGS: val = v->state.regs->rflags; break;
	case R_SEL:    val = segment_at(v, r->arg)->selector; break;
	case R_BASE:   val = segment_at(v, r->arg)->base; break;
	case R_CR:     val = *u64_at(&v->state.sregs, r->arg); break;
	case R_EFER:   val = v->state.sregs.efer; break;
	case R_KGSBASE:
		if (cpu_state_msr_read(&v->state, MSR_KERNEL_GS_BASE, &val))
			val = 0;
		break;
	case R_ST:
	case R_FPCTL:
	case R_XMM:
	case R_MXCSR:
		img = fx_image(v, tmp);
		if (r->kind == R_ST) {
			memcpy(out, img + FX_ST + 16 * r->arg, 10);
			return;
		}
		if (r->kind == R_XMM) {
			memcpy(out, img + FX_XMM + 16 * r->arg, 16);
			return;
		}
		val = r->kind == R_MXCSR ? get_le(img + FX_MXCSR, 4) : fpctl_read(img, r->arg);
		break;
	}
	put_le(out, r->bits / 8, val);
}

static unsigned write_fpu(struct vcpu *v, const struct reg *r, const uint8_t *in)
{
	uint8_t tmp[FX_SIZE], *img = fx_image(v, tmp);

	switch (r->kind) {
	case R_ST:
		memcpy(img + FX_ST + 16 * r->arg, in, 10);
		break;
	case R_XMM:
		memcpy(img + FX_XMM + 16 * r->arg, in, 16);
		break;
	case R_MXCSR:
		memcpy(img + FX_MXCSR, in, 4);
		break;
	default:
		fpctl_write(img, r->arg, (uint32_t)get_le(in, 4));
		break;
	}
	fx_commit(v, img);
	return CPU_MASK(CPU_FPU);
}

/* A selector write: in real mode (and virtual-8086) the base follows, as
 * a MOV to the segment register would set it; in protected mode only the
 * selector changes (shrike does not load descriptors for gdb). */
static unsigned write_selector(struct vcpu *v, const struct reg *r, uint64_t val)
{
	struct kvm_segment *s = segment_at(v, r->arg);

	s->selector = (uint16_t)val;
	if (!(v->state.sregs.cr0 & 1) || (v->state.regs->rflags & (1u << 17)))
		s->base = (uint64_t)s->selector << 4;
	return CPU_MASK(CPU_SREGS);
}

unsigned gdb_reg_write(struct vcpu *v, unsigned n, const uint8_t *in)
{
	const struct reg *r;
	uint64_t val;

	if (n >= NREGS)
		return 0;
	r = &regs[n];
	val = get_le(in, r->bits / 8 > 8 ? 8 : r->bits / 8);
	switch (r->kind) {
	case R_GPR:
		*u64_at(v->state.regs, r->arg) = val;
		return CPU_MASK(CPU_REGS);
	case R_RFLAGS:
		/* Bit 1 is always set; the upper half is reserved (zero). */
		v->state.regs->rflags = (uint32_t)val | 2;
		return CPU_MASK(CPU_REGS);
	case R_SEL:
		return write_selector(v, r, val);
	case R_BASE:
		segment_at(v, r->arg)->base = val;
		return CPU_MASK(CPU_SREGS);
	case R_CR:
		*u64_at(&v->state.sregs, r->arg) = val;
		return CPU_MASK(CPU_SREGS);
	case R_EFER:
		v->state.sregs.efer = val;
		return CPU_MASK(CPU_SREGS);
	case R_KGSBASE:
		return cpu_state_msr_write(&v->state, MSR_KERNEL_GS_BASE, val, "gdb") ? 0 : CPU_MASK(CPU_MSRS);
	case R_ST:
	case R_FPCTL:
	case R_XMM:
	case R_MXCSR:
		return write_fpu(v, r, in);
	}
	return 0;
}

/* ---- the target description ---- */

static const char *const feature_names[F_N] = {
	[F_CORE] = "org.gnu.gdb.i386.core",
	[F_SSE] = "org.gnu.gdb.i386.sse",
	[F_SEGMENTS] = "org.gnu.gdb.i386.segments",
	[F_SYS] = "org.shrike.gdb.x86.system",
};

static const char eflags_type[] =
	"<flags id=\"i386_eflags\" size=\"4\">"
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
	"<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
	"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
	"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
	"<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
	"<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
	"<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
	"<field name=\"ID\" start=\"21\" end=\"21\"/></flags>";

static const char sse_types[] =
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>"
	"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/><field name=\"v2_double\" type=\"v2d\"/>"
	"<field name=\"v16_int8\" type=\"v16i8\"/><field name=\"v8_int16\" type=\"v8i16\"/>"
	"<field name=\"v4_int32\" type=\"v4i32\"/><field name=\"v2_int64\" type=\"v2i64\"/>"
	"<field name=\"uint128\" type=\"uint128\"/></union>"
	"<flags id=\"i386_mxcsr\" size=\"4\">"
	"<field name=\"IE\" start=\"0\" end=\"0\"/><field name=\"DE\" start=\"1\" end=\"1\"/>"
	"<field name=\"ZE\" start=\"2\" end=\"2\"/><field name=\"OE\" start=\"3\" end=\"3\"/>"
	"<field name=\"UE\" start=\"4\" end=\"4\"/><field name=\"PE\" start=\"5\" end=\"5\"/>"
	"<field name=\"DAZ\" start=\"6\" end=\"6\"/><field name=\"IM\" start=\"7\" end=\"7\"/>"
	"<field name=\"DM\" start=\"8\" end=\"8\"/><field name=\"ZM\" start=\"9\" end=\"9\"/>"
	"<field name=\"OM\" start=\"10\" end=\"10\"/><field name=\"UM\" start=\"11\" end=\"11\"/>"
	"<field name=\"PM\" start=\"12\" end=\"12\"/><field name=\"FZ\" start=\"15\" end=\"15\"/>"
	"</flags>";

static void add_feature(struct strbuf *sb, enum feature f)
{
	sb_printf(sb, "<feature name=\"%s\">", feature_names[f]);
	if (f == F_CORE)
		sb_add(sb, eflags_type, sizeof(eflags_type) - 1);
	if (f == F_SSE)
		sb_add(sb, sse_types, sizeof(sse_types) - 1);
	/* Registers are numbered in document order; regnum makes it explicit,
	 * since the features interleave with the `g` layout. */
	for (unsigned i = 0; i < NREGS; i++) {
		if (regs[i].feature != f)
			continue;
		sb_printf(sb, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"", regs[i].name,
			  regs[i].bits, regs[i].type, i);
		if (regs[i].group)
			sb_printf(sb, " group=\"%s\"", regs[i].group);
		sb_add(sb, "/>", 2);
	}
	sb_add(sb, "</feature>", 10);
}

const char *gdb_target_xml(size_t *len)
{
	static struct strbuf xml;

	if (!xml.len) {
		sb_printf(&xml, "<?xml version=\"1.0\"?><!DOCTYPE target SYSTEM \"gdb-target.dtd\">"
			  "<target version=\"1.0\"><architecture>i386:x86-64</architecture>");
		for (unsigned f = 0; f < F_N; f++)
			add_feature(&xml, f);
		sb_add(&xml, "</target>", 9);
	}
	*len = xml.failed ? 0 : xml.len;
	return xml.failed ? "" : sb_str(&xml);
}
