/*
 * Kernel command line parser.  Splits on spaces/tabs, then each word at the
 * first '=' into name and value, and hands it to the matching table entry.
 * Unknown words and rejected values are reported and skipped, never fatal:
 * a typo on the command line must not stop the machine from booting.
 */

#include <cmdline.h>
#include <errno.h>
#include <printk.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const struct cmdline_opt *find_opt(const char *name,
					  const struct cmdline_opt *opts,
					  size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	}
	return NULL;
}

static int apply_word(char *word, const struct cmdline_opt *opts, size_t nr)
{
	const struct cmdline_opt *opt;
	char *val = strchr(word, '=');
	int ret;

	if (val)
		*val++ = '\0';
	opt = find_opt(word, opts, nr);
	if (!opt) {
		pr_warn("cmdline: ignoring unknown option '%s'\n", word);
		return -ENOENT;
	}
	ret = opt->set(word, val);
	if (ret) {
		pr_warn("cmdline: ignoring bad '%s%s%s' (error %d)\n", word,
			val ? "=" : "", val ? val : "", ret);
	}
	return ret;
}

/* Returns the number of words that were ignored. */
int cmdline_parse(const char *line, const struct cmdline_opt *opts, size_t nr)
{
	char word[CMDLINE_WORD_MAX];
	int bad = 0;

	while (*line) {
		size_t len = 0;

		while (is_space(*line))
			line++;
		if (!*line)
			break;
		while (line[len] && !is_space(line[len]))
			len++;
		if (len >= sizeof(word)) {
			pr_warn("cmdline: ignoring over-long word '%.16s...'\n",
				line);
			bad++;
		} else {
			memcpy(word, line, len);
			word[len] = '\0';
			bad += apply_word(word, opts, nr) != 0;
		}
		line += len;
	}
	return bad;
}
