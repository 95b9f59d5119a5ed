#include "control/json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

/* ---- arena ---- */

static void *arena_alloc(struct json_doc *d, size_t n)
{
	void *p;

	if (d->nblocks == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		void **b = realloc(d->blocks, cap * sizeof(*b));

		if (!b)
			return NULL;
		d->blocks = b;
		d->cap = cap;
	}
	p = calloc(1, n ? n : 1);
	if (p)
		d->blocks[d->nblocks++] = p;
	return p;
}

void json_doc_free(struct json_doc *d)
{
	for (size_t i = 0; i < d->nblocks; i++)
		free(d->blocks[i]);
	free(d->blocks);
	memset(d, 0, sizeof(*d));
}

/* ---- parser ---- */

struct parser {
	struct json_doc *doc;
	const char *p, *end;
	char *err;
	size_t errlen;
	bool failed;
	size_t values;             /* parsed so far (JSON_MAX_VALUES) */
};

static void perr(struct parser *ps, const char *what)
{
	if (!ps->failed)
		err_set(ps->err, ps->errlen, "JSON parse error, %s", what);
	ps->failed = true;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static bool read_hex4(struct parser *ps, unsigned *out)
{
	unsigned v = 0;

	if (ps->end - ps->p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		int h = hexval(ps->p[i]);

		if (h < 0)
			return false;
		v = v << 4 | (unsigned)h;
	}
	ps->p += 4;
	*out = v;
	return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* An escape after the backslash; writes its bytes to o. */
static size_t parse_escape(struct parser *ps, char *o)
{
	unsigned cp, lo;
	char c = *ps->p++;

	switch (c) {
	case '"': case '\\': case '/': o[0] = c; return 1;
	case 'b': o[0] = '\b'; return 1;
	case 'f': o[0] = '\f'; return 1;
	case 'n': o[0] = '\n'; return 1;
	case 'r': o[0] = '\r'; return 1;
	case 't': o[0] = '\t'; return 1;
	case 'u':
		if (!read_hex4(ps, &cp))
			break;
		if (cp >= 0xd800 && cp < 0xdc00) {
			if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')
				break;
			ps->p += 2;
			if (!read_hex4(ps, &lo) || lo < 0xdc00 || lo > 0xdfff)
				break;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (cp >= 0xdc00 && cp < 0xe000) {
			break;
		}
		if (!cp) {
			/* A NUL would end the C string early: "a\u0000.snap" would
			 * name "a" (security review 2, N7).  QEMU refuses it too. */
			perr(ps, "\\u0000 is not supported");
			return 0;
		}
		return put_utf8(o, cp);
	default:
		break;
	}
	perr(ps, "invalid escape sequence in string");
	return 0;
}

static char *parse_string(struct parser *ps, size_t *len)
{
	const char *q = ps->p + 1;
	size_t cap;
	char *s, *o;

	/* A first pass finds the end; escapes only shrink the text. */
	while (q < ps->end && *q != '"')
		q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
	if (q >= ps->end) {
		perr(ps, "missing closing quote of a string");
		return NULL;
	}
	cap = (size_t)(q - ps->p);
	s = arena_alloc(ps->doc, cap + 1);
	if (!s) {
		perr(ps, "out of memory");
		return NULL;
	}
	o = s;
	ps->p++;
	while (*ps->p != '"' && !ps->failed) {
		unsigned char c = (unsigned char)*ps->p;

		if (c < 0x20) {
			perr(ps, "control character in string");
			return NULL;
		}
		if (c == '\\') {
			ps->p++;
			o += parse_escape(ps, o);
		} else {
			*o++ = (char)c;
			ps->p++;
		}
	}
	if (ps->failed)
		return NULL;
	ps->p++;
	*o = 0;
	*len = (size_t)(o - s);
	return s;
}

static struct json *new_value(struct parser *ps, enum json_type t)
{
	struct json *v;

	/* Each value is an allocation: a 4 MiB "[0,0,...]" would be two
	 * million of them on the main thread (security review 2, N8). */
	if (++ps->values > JSON_MAX_VALUES) {
		perr(ps, "token count limit exceeded");
		return NULL;
	}
	v = arena_alloc(ps->doc, sizeof(*v));

	if (!v)
		perr(ps, "out of memory");
	else
		v->type = t;
	return v;
}

static struct json *parse_value(struct parser *ps, int depth);

static struct json *parse_number(struct parser *ps)
{
	const char *q = ps->p;
	bool integer = true;
	char tmp[64];
	size_t n;
	struct json *v;

	if (q < ps->end && *q == '-')
		q++;
	if (q >= ps->end || *q < '0' || *q > '9') {
		perr(ps, "invalid number");
		return NULL;
	}
	while (q < ps->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
			       *q == '+' || *q == '-')) {
		if (*q == '.' || *q == 'e' || *q == 'E')
			integer = false;
		q++;
	}
	n = (size_t)(q - ps->p);
	if (n >= sizeof(tmp)) {
		perr(ps, "number too long");
		return NULL;
	}
	memcpy(tmp, ps->p, n);
	tmp[n] = 0;
	v = new_value(ps, JSON_INT);
	if (!v)
		return NULL;
	errno = 0;
	if (integer) {
		char *e;

		v->i = strtoll(tmp, &e, 10);
		if (*e || errno == ERANGE)
			integer = false;
	}
	if (!integer) {
		char *e;

		v->type = JSON_DOUBLE;
		v->d = strtod(tmp, &e);
		if (*e || !isfinite(v->d)) {
			perr(ps, "invalid number");
			return NULL;
		}
	}
	ps->p = q;
	return v;
}

static bool grow(struct parser *ps, struct json *v, size_t *cap, bool keys)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	struct json **items = arena_alloc(ps->doc, ncap * sizeof(*items));
	char **k = keys ? arena_alloc(ps->doc, ncap * sizeof(*k)) : NULL;

	if (!items || (keys && !k)) {
		perr(ps, "out of memory");
		return false;
	}
	if (v->len) {
		memcpy(items, v->items, v->len * sizeof(*items));
		if (keys)
			memcpy(k, v->keys, v->len * sizeof(*k));
	}
	v->items = items;
	if (keys)
		v->keys = k;
	*cap = ncap;
	return true;
}

static struct json *parse_container(struct parser *ps, int depth, bool object)
{
	struct json *v = new_value(ps, object ? JSON_OBJECT : JSON_ARRAY);
	char close = object ? '}' : ']';
	size_t cap = 0;

	if (!v)
		return NULL;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;
		struct json *item;

		skip_ws(ps);
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"') {
				perr(ps, "expected a string key in an object");
				return NULL;
			}
			key = parse_string(ps, &klen);
			if (!key)
				return NULL;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				perr(ps, "expected ':' after a key");
				return NULL;
			}
			ps->p++;
		}
		item = parse_value(ps, depth + 1);
		if (!item)
			return NULL;
		if (v->len == cap && !grow(ps, v, &cap, object))
			return NULL;
		if (object)
			v->keys[v->len] = key;
		v->items[v->len++] = item;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return v;
		}
		perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
		return NULL;
	}
}

static bool match_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n))
		return false;
	ps->p += n;
	return true;
}

/* A bare word that is not true, false or null (QEMU's wording). */
static void invalid_keyword(struct parser *ps)
{
	char msg[96];
	size_t n = 0;

	while (ps->p + n < ps->end && n < 40 && ((ps->p[n] >= 'a' && ps->p[n] <= 'z') ||
						  (ps->p[n] >= 'A' && ps->p[n] <= 'Z') ||
						  (ps->p[n] >= '0' && ps->p[n] <= '9') ||
						  ps->p[n] == '_'))
		n++;
	if (!n) {
		perr(ps, "invalid token");
		return;
	}
	snprintf(msg, sizeof(msg), "invalid keyword '%.*s'", (int)n, ps->p);
	perr(ps, msg);
}

static struct json *parse_value(struct parser *ps, int depth)
{
	struct json *v;

	if (depth > JSON_MAX_DEPTH) {
		perr(ps, "nesting too deep");
		return NULL;
	}
	skip_ws(ps);
	if (ps->p >= ps->end) {
		perr(ps, "unexpected end of input");
		return NULL;
	}
	switch (*ps->p) {
	case '{': return parse_container(ps, depth, true);
	case '[': return parse_container(ps, depth, false);
	case '"':
		v = new_value(ps, JSON_STRING);
		if (v && !(v->s = parse_string(ps, &v->len)))
			return NULL;
		return v;
	case 't': case 'f': case 'n':
		if (match_word(ps, "true") || match_word(ps, "false")) {
			v = new_value(ps, JSON_BOOL);
			if (v)
				v->b = ps->p[-1] == 'e' && ps->p[-2] == 'u';
			return v;
		}
		if (match_word(ps, "null"))
			return new_value(ps, JSON_NULL);
		break;
	case '}': case ']': case ',': case ':':
		perr(ps, "expecting value");
		return NULL;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps);
		break;
	}
	invalid_keyword(ps);
	return NULL;
}

int json_parse(struct json_doc *doc, const char *buf, size_t n, char *err, size_t errlen)
{
	struct parser ps = { .doc = doc, .p = buf, .end = buf + n, .err = err, .errlen = errlen };

	memset(doc, 0, sizeof(*doc));
	doc->root = parse_value(&ps, 0);
	if (doc->root) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			perr(&ps, "trailing characters after the value");
	}
	if (ps.failed || !doc->root) {
		json_doc_free(doc);
		return -1;
	}
	return 0;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->len; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

const char *json_type_name(enum json_type t)
{
	static const char *const n[] = { "null", "bool", "number", "number", "string", "array",
					 "object" };

	return t <= JSON_OBJECT ? n[t] : "?";
}

/* ---- splitter ---- */

void json_splitter_init(struct json_splitter *s, size_t limit)
{
	memset(s, 0, sizeof(*s));
	s->limit = limit;
}

void json_splitter_free(struct json_splitter *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

int json_splitter_feed(struct json_splitter *s, const char *data, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		char c = data[i];

		if (s->overflow) {
			/* Dropping an oversized value: up to a newline at depth 0
			 * would be wrong inside it, so just the end of the line. */
			if (c == '\n') {
				s->overflow = false;
				s->len = s->scan = s->start = 0;
				s->depth = 0;
				s->in_string = s->escape = s->in_token = false;
			}
			continue;
		}
		if (s->len - s->start >= s->limit) {
			s->overflow = true;
			r = -1;
			continue;
		}
		if (s->len == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 4096;
			char *b = realloc(s->buf, cap);

			if (!b) {
				s->overflow = true;
				r = -1;
				continue;
			}
			s->buf = b;
			s->cap = cap;
		}
		s->buf[s->len++] = c;
	}
	return r;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool json_splitter_next(struct json_splitter *s, const char **value, size_t *len)
{
	/* Compact the buffer when a previous value was taken. */
	if (s->start && s->start == s->len) {
		s->len = s->scan = s->start = 0;
	} else if (s->start > 65536) {
		memmove(s->buf, s->buf + s->start, s->len - s->start);
		s->len -= s->start;
		s->scan -= s->start;
		s->start = 0;
	}
	while (s->scan < s->len) {
		char c = s->buf[s->scan++];

		if (s->depth == 0 && !s->in_string && !s->in_token) {
			if (is_ws(c)) {
				s->start = s->scan;
				continue;
			}
			if (c == '{' || c == '[') {
				s->depth = 1;
				continue;
			}
			if (c == '"') {
				s->in_string = true;
				continue;
			}
			/* A bare token (number, keyword, garbage): up to the next
			 * whitespace or structural character. */
			s->in_token = true;
			if (c == '}' || c == ']')
				goto complete;
			continue;
		}
		if (s->in_token) {
			if (is_ws(c) || c == '{' || c == '[' || c == '"') {
				s->scan--;
				goto complete;
			}
			continue;
		}
		if (s->in_string) {
			if (s->escape)
				s->escape = false;
			else if (c == '\\')
				s->escape = true;
			else if (c == '"') {
				s->in_string = false;
				if (s->depth == 0)
					goto complete;
			}
			continue;
		}
		if (c == '"')
			s->in_string = true;
		else if (c == '{' || c == '[')
			s->depth++;
		else if ((c == '}' || c == ']') && --s->depth == 0)
			goto complete;
	}
	return false;
complete:
	*value = s->buf + s->start;
	*len = s->scan - s->start;
	s->start = s->scan;
	s->in_token = false;
	return true;
}

/* ---- writer ---- */

void jout_strn(struct strbuf *o, const char *s, size_t n)
{
	sb_add(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(o, esc, 2);
		} else if (c == '\n') {
			sb_add(o, "\\n", 2);
		} else if (c == '\r') {
			sb_add(o, "\\r", 2);
		} else if (c == '\t') {
			sb_add(o, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			sb_add(o, esc, 6);
		} else {
			sb_add(o, (const char *)&s[i], 1);
		}
	}
	sb_add(o, "\"", 1);
}

void jout_str(struct strbuf *o, const char *s)
{
	jout_strn(o, s, strlen(s));
}

void jout_value(struct strbuf *o, const struct json *v)
{
	switch (v->type) {
	case JSON_NULL: sb_add(o, "null", 4); break;
	case JSON_BOOL: sb_add(o, v->b ? "true" : "false", v->b ? 4 : 5); break;
	case JSON_INT: sb_printf(o, "%lld", (long long)v->i); break;
	case JSON_DOUBLE: sb_printf(o, "%.17g", v->d); break;
	case JSON_STRING: jout_strn(o, v->s, v->len); break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		sb_add(o, v->type == JSON_ARRAY ? "[" : "{", 1);
		for (size_t i = 0; i < v->len; i++) {
			if (i)
				sb_add(o, ", ", 2);
			if (v->type == JSON_OBJECT) {
				jout_str(o, v->keys[i]);
				sb_add(o, ": ", 2);
			}
			jout_value(o, v->items[i]);
		}
		sb_add(o, v->type == JSON_ARRAY ? "]" : "}", 1);
		break;
	}
}

