/*
 * JSON for the control socket: a parser for one value (bounded depth and
 * size; every input is hostile), a splitter that finds complete top-level
 * values in a byte stream, and a small writer.
 *
 * Values are trees allocated from one arena per parse, freed at once.
 */
#ifndef SHRIKE_JSON_H
#define SHRIKE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

#define JSON_MAX_DEPTH 64
/* Values in one message (QEMU caps tokens likewise). */
#define JSON_MAX_VALUES 65536

enum json_type { JSON_NULL, JSON_BOOL, JSON_INT, JSON_DOUBLE, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	bool b;
	int64_t i;
	double d;
	char *s;                   /* JSON_STRING (NUL-terminated; may hold NULs: len) */
	size_t len;                /* string length, or number of items */
	struct json **items;       /* JSON_ARRAY values; JSON_OBJECT values */
	char **keys;               /* JSON_OBJECT keys */
};

struct json_doc {
	struct json *root;
	void **blocks;             /* arena */
	size_t nblocks, cap;
};

/* Parses exactly one value from buf (whitespace around it allowed).
 * Returns 0, or -1 with a message in err. */
int json_parse(struct json_doc *doc, const char *buf, size_t n, char *err, size_t errlen);
void json_doc_free(struct json_doc *doc);

/* Object member, or NULL. */
const struct json *json_get(const struct json *obj, const char *key);
const char *json_type_name(enum json_type t);

/*
 * Splitter: feed bytes, take complete top-level values.  A value longer
 * than `limit` is dropped with an error (then bytes are skipped up to the
 * next newline at depth 0).
 */
struct json_splitter {
	char *buf;
	size_t len, cap, limit;
	size_t scan;               /* bytes of buf already scanned */
	int depth;
	bool in_string, escape, in_token, overflow;
	size_t start;
};

void json_splitter_init(struct json_splitter *s, size_t limit);
void json_splitter_free(struct json_splitter *s);
/* Appends bytes; returns -1 if a value grew past the limit (it is dropped). */
int json_splitter_feed(struct json_splitter *s, const char *data, size_t n);
/* Next complete value: pointer into the splitter's buffer and its length
 * (valid until the next call); false if none is complete yet. */
bool json_splitter_next(struct json_splitter *s, const char **value, size_t *len);

/* Writer: JSON into a growing buffer (base/strbuf.h: sb_add, sb_printf
 * for the rest). */
void jout_str(struct strbuf *o, const char *s);                  /* quoted, escaped */
void jout_strn(struct strbuf *o, const char *s, size_t n);
/* Writes a parsed value back (the QMP "id"). */
void jout_value(struct strbuf *o, const struct json *v);

#endif
