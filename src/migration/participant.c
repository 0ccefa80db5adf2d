// SPDX-License-Identifier: MIT
/*
 * The list of migration participants (participant.h) and the calls that go
 * to all of them.  Registration happens before any migration can start, so
 * the list needs no lock.
 */
#include <stdbool.h>
#include <stdio.h>

#include "migration/participant.h"

static struct mig_participant *participants;

void mig_participant_add(struct mig_participant *p)
{
	p->next = participants;
	participants = p;
}

int mig_participants_prepare(char *err, size_t errlen)
{
	int total = 0, n;

	for (struct mig_participant *p = participants; p; p = p->next) {
		if (!p->prepare)
			continue;
		n = p->prepare(p->opaque, err, errlen);
		if (n < 0)
			return n;
		total += n;
	}
	return total;
}

/* what (may be NULL) names the first pending thing found. */
int mig_participants_pending(char *what, size_t len)
{
	bool named = false;
	int total = 0, n;

	if (what && len)
		what[0] = '\0';
	for (struct mig_participant *p = participants; p; p = p->next) {
		if (!p->pending)
			continue;
		n = p->pending(p->opaque, named ? NULL : what, named ? 0 : len);
		if (n > 0 && what && len && what[0])
			named = true;
		total += n;
	}
	return total;
}

void mig_participants_force(void)
{
	for (struct mig_participant *p = participants; p; p = p->next)
		if (p->force)
			p->force(p->opaque);
}

void mig_participants_undo(void)
{
	for (struct mig_participant *p = participants; p; p = p->next)
		if (p->undo)
			p->undo(p->opaque);
}

void mig_participants_resumed(void)
{
	for (struct mig_participant *p = participants; p; p = p->next)
		if (p->resumed)
			p->resumed(p->opaque);
}
