/* Command-line pieces shared by replay, capture and drive (cli.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachetap/cli.h"
#include "cachetap/common.h"
#include "cachetap/pipeline.h"
#include "cachetap/proto.h"

static const char *command = "run";

void ct_cli_set_command(const char *cmd)
{
	command = cmd;
}

int ct_cli_bad(const char *opt, const char *arg, const char *why)
{
	fprintf(stderr, "cachetap %s: %s: '%s' %s\n", command, opt, arg, why);
	return CT_EINVAL;
}

void ct_cli_port_add(struct ct_cli_ports *l, uint16_t port)
{
	if (ct_portmap_has(l->map, port))
		return;
	ct_portmap_set(l->map, port);
	size_t used = strlen(l->text);
	snprintf(l->text + used, sizeof l->text - used, "%s%u", used ? "," : "", port);
}

int ct_cli_ports(const char *opt, const char *arg, struct ct_cli_ports *l)
{
	char buf[256];
	if (strlen(arg) >= sizeof buf)
		return ct_cli_bad(opt, arg, "is too long a port list");
	if (!l->given) { /* the first one given replaces the default */
		memset(l, 0, sizeof *l);
		l->given = 1;
	}
	snprintf(buf, sizeof buf, "%s", arg);
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), n++) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(tok, &end, 10);
		if (errno || end == tok || *end || v == 0 || v > 65535)
			return ct_cli_bad(opt, tok, "is not a port number (1-65535)");
		ct_cli_port_add(l, (uint16_t)v);
	}
	return n ? 0 : ct_cli_bad(opt, arg, "is not a port list");
}

void ct_cli_capture_init(struct ct_cli_capture *c)
{
	memset(c, 0, sizeof *c);
	ct_cli_port_add(&c->redis, 6379);
	ct_cli_port_add(&c->memcached, 11211);
	ct_cli_port_add(&c->http, 80);
	ct_cli_port_add(&c->http, 8080);
	c->decode = CT_DECODE_ALL;
	c->values = CT_VALUES_HASH;
}

/* One more --channel glob (SPEC section 2): kept as given, matched by src/glob.c. */
int ct_cli_channel(struct ct_cli_capture *c, const char *arg)
{
	char why[96];
	size_t n = strlen(arg);
	if (n == 0)
		return ct_cli_bad("--channel", arg, "is empty (give a channel name or a glob)");
	if (n > CT_CHANNEL_GLOB_MAX_BYTES) {
		snprintf(why, sizeof why, "is too long a glob (at most %u bytes)",
			 CT_CHANNEL_GLOB_MAX_BYTES);
		return ct_cli_bad("--channel", arg, why);
	}
	if (c->nchannels >= CT_CHANNEL_MAX_GLOBS) {
		snprintf(why, sizeof why, "is one glob too many (at most %u --channel options)",
			 CT_CHANNEL_MAX_GLOBS);
		return ct_cli_bad("--channel", arg, why);
	}
	c->channels[c->nchannels++] = arg;
	return 0;
}

/* --node NAME=HOST:PORT[,role=ROLE]: HOST is an IP address ([v6] in brackets), because a
 * passive capture sees addresses, not names. The endpoint is normalised the way the timeline
 * prints servers and clients, so the two can be joined. */
int ct_cli_node(struct ct_cli_capture *c, const char *arg)
{
	static const char *const roles[] = { "primary", "replica", "memcached", "app" };
	char buf[512], why[96];
	if (c->nnodes >= CT_NODE_MAX_OPTIONS) {
		snprintf(why, sizeof why, "is one node too many (at most %u --node options)",
			 CT_NODE_MAX_OPTIONS);
		return ct_cli_bad("--node", arg, why);
	}
	if (strlen(arg) >= sizeof buf)
		return ct_cli_bad("--node", arg, "is too long");
	snprintf(buf, sizeof buf, "%s", arg);
	struct ct_cli_node *n = &c->nodes[c->nnodes];
	char *eq = strchr(buf, '=');
	if (!eq || eq == buf)
		return ct_cli_bad("--node", arg, "is not NAME=HOST:PORT[,role=ROLE]");
	*eq = '\0';
	size_t nl = strlen(buf);
	if (nl > CT_NODE_NAME_MAX_BYTES || strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
						     "qrstuvwxyz0123456789_.-") != nl)
		return ct_cli_bad("--node", arg, "has a bad NAME (letters, digits, _ . -; at most 64)");
	memcpy(n->name, buf, nl + 1); /* nl <= CT_NODE_NAME_MAX_BYTES: it fits */
	char *ep = eq + 1, *role = strchr(ep, ',');
	n->role = NULL;
	if (role) {
		*role++ = '\0';
		if (strncmp(role, "role=", 5) != 0)
			return ct_cli_bad("--node", arg,
					  "has something other than role=ROLE after the comma");
		for (size_t i = 0; i < CT_ARRAY_LEN(roles); i++)
			if (strcmp(role + 5, roles[i]) == 0)
				n->role = roles[i];
		if (!n->role)
			return ct_cli_bad("--node", arg,
					  "has a role other than primary, replica, memcached, app");
	}
	char *colon = strrchr(ep, ':');
	if (!colon)
		return ct_cli_bad("--node", arg, "has no :PORT");
	*colon = '\0';
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port == 0 || port > 65535)
		return ct_cli_bad("--node", arg, "has a bad PORT (1-65535)");
	struct ct_ip ip;
	memset(&ip, 0, sizeof ip);
	size_t hl = strlen(ep);
	if (hl >= 2 && ep[0] == '[' && ep[hl - 1] == ']') {
		ep[hl - 1] = '\0';
		ip.family = 6;
		if (inet_pton(AF_INET6, ep + 1, ip.a) != 1)
			return ct_cli_bad("--node", arg, "has a bad IPv6 address");
	} else {
		ip.family = 4;
		if (inet_pton(AF_INET, ep, ip.a) != 1)
			return ct_cli_bad("--node", arg,
					  "has a HOST that is not an IP address ([v6] in brackets)");
	}
	ct_endpoint_str(&ip, (uint16_t)port, n->endpoint, sizeof n->endpoint);
	c->nnodes++;
	return 0;
}

int ct_cli_decode(const char *arg, unsigned *out)
{
	char buf[128];
	if (strlen(arg) >= sizeof buf)
		return ct_cli_bad("--decode", arg, "is too long");
	snprintf(buf, sizeof buf, "%s", arg);
	*out = 0;
	if (strcmp(buf, "none") == 0)
		return 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "redis") == 0)
			*out |= CT_DECODE_REDIS;
		else if (strcmp(tok, "memcached") == 0)
			*out |= CT_DECODE_MEMCACHED;
		else if (strcmp(tok, "http") == 0)
			*out |= CT_DECODE_HTTP;
		else
			return ct_cli_bad("--decode", tok, "is not one of redis, memcached, http, none");
	}
	return 0;
}

int ct_cli_values(const char *arg, unsigned *out)
{
	if (strcmp(arg, "none") == 0)
		*out = CT_VALUES_NONE;
	else if (strcmp(arg, "hash") == 0)
		*out = CT_VALUES_HASH;
	else if (strcmp(arg, "full") == 0)
		return ct_cli_bad("--values", arg, "is not implemented yet (use none or hash)");
	else
		return ct_cli_bad("--values", arg, "is not one of none, hash");
	return 0;
}

int ct_cli_size(const char *opt, const char *arg, uint64_t min, uint64_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || end == arg || arg[0] == '-')
		return ct_cli_bad(opt, arg, "is not a size");
	uint64_t mult = 1;
	if (*end == 'k' || *end == 'K')
		mult = 1024, end++;
	else if (*end == 'm' || *end == 'M')
		mult = 1024 * 1024, end++;
	else if (*end == 'g' || *end == 'G')
		mult = 1024ull * 1024 * 1024, end++;
	if (*end)
		return ct_cli_bad(opt, arg, "is not a size (N, NK, NM or NG)");
	if (v > max / mult || v * mult < min || v * mult > max) {
		char why[96];
		snprintf(why, sizeof why, "is out of range (%llu to %llu bytes)",
			 (unsigned long long)min, (unsigned long long)max);
		return ct_cli_bad(opt, arg, why);
	}
	*out = (uint32_t)(v * mult);
	return 0;
}

void ct_cli_bpf(const struct ct_cli_capture *c, char *out, size_t len)
{
	char ports[4096] = "";
	size_t used = 0;
	const char *lists[] = { c->redis.text, c->memcached.text, c->http.text };
	for (size_t i = 0; i < CT_ARRAY_LEN(lists); i++) {
		char tmp[sizeof c->redis.text];
		snprintf(tmp, sizeof tmp, "%s", lists[i]);
		for (char *save = NULL, *tok = strtok_r(tmp, ",", &save); tok && used < sizeof ports;
		     tok = strtok_r(NULL, ",", &save))
			used += (size_t)snprintf(ports + used, sizeof ports - used, "%sport %s",
						 used ? " or " : "", tok);
	}
	const char *f = c->filter;
	if (c->all_ports || !ports[0])
		snprintf(out, len, "(tcp or udp)%s%s%s", f ? " and (" : "", f ? f : "", f ? ")" : "");
	else
		snprintf(out, len, "(tcp or udp) and (%s)%s%s%s", ports, f ? " and (" : "",
			 f ? f : "", f ? ")" : "");
}

void ct_cli_record(struct ct_sink *sink, const struct ct_cli_capture *c, const char *cmd, int argc,
		   char **argv)
{
	char line[4096];
	size_t used = 0;
	line[0] = '\0';
	for (int i = 0; i < argc && used < sizeof line; i++)
		used += (size_t)snprintf(line + used, sizeof line - used, "%s%s", i ? " " : "",
					 argv[i]);
	sink->ops->meta(sink, "tool_version", CT_VERSION);
	sink->ops->meta(sink, "command", cmd);
	sink->ops->meta(sink, "options", line);
	sink->ops->meta(sink, "redis_ports", c->redis.text);
	sink->ops->meta(sink, "memcached_ports", c->memcached.text);
	sink->ops->meta(sink, "http_ports", c->http.text);
	/* The --channel globs, comma separated like the port lists ("" when none). */
	char chans[CT_CHANNEL_MAX_GLOBS * (CT_CHANNEL_GLOB_MAX_BYTES + 1) + 1];
	used = 0;
	chans[0] = '\0';
	for (uint32_t i = 0; i < c->nchannels; i++)
		used += (size_t)snprintf(chans + used, sizeof chans - used, "%s%s", i ? "," : "",
					 c->channels[i]);
	sink->ops->meta(sink, "channels", chans);
	for (uint32_t i = 0; i < c->nnodes; i++) {
		const struct ct_cli_node *nd = &c->nodes[i];
		struct ct_node_rec n = { nd->name, nd->endpoint, nd->role, "option", 0, 0 };
		sink->ops->node(sink, &n);
	}
}
