// SPDX-License-Identifier: MIT
/*
 * The configuration check and the machine records of the migration stream:
 * devices (each one's own state record, by id), in-kernel irqchip/PIT/clock
 * and vCPU state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <jansson.h>
#include <linux/kvm.h>

#include "core/util.h"
#include "core/vcpu.h"
#include "migration/cpu_state.h"
#include "migration/machine.h"

#define CPUID_MAX_ENT	256

static uint32_t cpuid_crc;

/*
 * A digest of vCPU 0's CPUID: the guest saw it and must keep seeing it.
 * Taken before the vCPUs run, because a vCPU ioctl waits for KVM_RUN to
 * return, which an idle vCPU halted in the kernel may not do for long.
 */
int mig_machine_init(struct vm *vm)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
				      CPUID_MAX_ENT * sizeof(c->entries[0]));
	int ret = 0;

	if (!c)
		return -ENOMEM;
	c->nent = CPUID_MAX_ENT;
	if (ioctl(vm->vcpus[0].fd, KVM_GET_CPUID2, c) == 0)
		cpuid_crc = crc32c(0, c->entries, c->nent * sizeof(c->entries[0]));
	else
		ret = -errno;
	free(c);
	return ret;
}

static json_t *config_json(struct vm *vm)
{
	json_t *slots = json_array(), *devs = json_array();

	for (int i = 0; i < vm->mem.nr_slots; i++)
		json_array_append_new(slots, json_pack("[I, I]",
			(json_int_t)vm->mem.slots[i].gpa,
			(json_int_t)vm->mem.slots[i].size));
	pthread_mutex_lock(&vm->lock);
	for (struct device *d = vm->devices; d; d = d->next) {
		char where[80] = "";

		if (d->ops->location)
			d->ops->location(d, where, sizeof(where));
		json_array_append_new(devs, json_pack("[s, s, s]", d->id,
						      d->ops->type, where));
	}
	pthread_mutex_unlock(&vm->lock);
	return json_pack("{s:I, s:o, s:i, s:I, s:o}",
			 "ram", (json_int_t)vm->mem.ram_size, "slots", slots,
			 "cpus", (int)vm->nr_vcpus,
			 "cpuid", (json_int_t)cpuid_crc, "devices", devs);
}

int mig_send_config(struct vm *vm, struct mig_writer *w)
{
	json_t *j = config_json(vm);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int ret = s ? mig_write_record(w, MIG_REC_CONFIG, s, strlen(s)) :
		      -ENOMEM;

	free(s);
	json_decref(j);
	return ret;
}

static int check_devices(json_t *mine, json_t *theirs, char *err,
			 size_t errlen)
{
	size_t n = json_array_size(mine), m = json_array_size(theirs);

	for (size_t i = 0; i < MAX(n, m); i++) {
		json_t *a = json_array_get(mine, i), *b = json_array_get(theirs, i);
		const char *aid = json_string_value(json_array_get(a, 0));
		const char *bid = json_string_value(json_array_get(b, 0));

		if (!b || !bid) {
			snprintf(err, errlen, "device '%s' is here but not on the source",
				 aid);
			return -EINVAL;
		}
		if (!a) {
			snprintf(err, errlen, "the source has device '%s' that this fvmm lacks",
				 bid);
			return -EINVAL;
		}
		if (!json_equal(a, b) && aid && !strcmp(aid, bid) &&
		    json_equal(json_array_get(a, 1), json_array_get(b, 1))) {
			snprintf(err, errlen, "device '%s' is at %s on the source, %s here",
				 aid,
				 json_string_value(json_array_get(b, 2)) ?: "?",
				 json_string_value(json_array_get(a, 2)) ?: "?");
			return -EINVAL;
		}
		if (!json_equal(a, b)) {
			snprintf(err, errlen, "device %zu is '%s' (%s) on the source, '%s' (%s) here",
				 i + 1, bid,
				 json_string_value(json_array_get(b, 1)) ?: "?",
				 aid, json_string_value(json_array_get(a, 1)));
			return -EINVAL;
		}
	}
	return 0;
}

static int check_member(json_t *mine, json_t *theirs, const char *key,
			const char *what, char *err, size_t errlen)
{
	json_t *a = json_object_get(mine, key), *b = json_object_get(theirs, key);

	if (json_equal(a, b))
		return 0;
	if (json_is_integer(a) && json_is_integer(b))
		snprintf(err, errlen, "%s differs: %lld on the source, %lld here",
			 what, (long long)json_integer_value(b),
			 (long long)json_integer_value(a));
	else
		snprintf(err, errlen, "%s differs from the source's", what);
	return -EINVAL;
}

int mig_check_config(struct vm *vm, const struct mig_record *rec, char *err,
		     size_t errlen)
{
	json_t *mine = config_json(vm), *theirs;
	json_error_t jerr;
	int ret = -EINVAL;

	theirs = json_loadb((const char *)rec->payload, rec->len, 0, &jerr);
	if (!mine || !json_is_object(theirs)) {
		snprintf(err, errlen, "configuration record is not a JSON object");
		goto free_json;
	}
	if (check_member(mine, theirs, "ram", "RAM size", err, errlen) ||
	    check_member(mine, theirs, "slots", "RAM layout", err, errlen) ||
	    check_member(mine, theirs, "cpus", "vCPU count", err, errlen) ||
	    check_member(mine, theirs, "cpuid", "CPUID (host CPU or KVM)",
			 err, errlen) ||
	    check_devices(json_object_get(mine, "devices"),
			  json_object_get(theirs, "devices"), err, errlen))
		goto free_json;
	ret = 0;
free_json:
	json_decref(theirs);
	json_decref(mine);
	return ret;
}

static int send_device(struct device *d, struct mig_writer *w, char *err,
		       size_t errlen)
{
	struct sbuf b = { 0 };
	size_t idlen = strlen(d->id);
	int ret;

	sbuf_put_le(&b, idlen, 2);
	sbuf_put(&b, d->id, idlen);
	ret = d->ops->save(d, &b);
	if (!ret)
		ret = b.err;
	if (!ret)
		ret = mig_write_record(w, MIG_REC_DEVICE, b.data, b.len);
	if (ret)
		snprintf(err, errlen, "device '%s': cannot save: %s", d->id,
			 strerror(-ret));
	sbuf_free(&b);
	return ret;
}

static int send_kstate(struct vm *vm, struct mig_writer *w, char *err,
		       size_t errlen)
{
	struct vm_ksnapshot *k = calloc(1, sizeof(*k));
	struct sbuf b = { 0 };
	int ret = k ? vm_ksnapshot_get(vm->vm_fd, k) : -ENOMEM;

	if (!ret)
		ret = vm_ksnapshot_encode(k, &b);
	if (!ret)
		ret = b.err;
	if (!ret)
		ret = mig_write_record(w, MIG_REC_VM_KSTATE, b.data, b.len);
	if (ret)
		snprintf(err, errlen, "in-kernel irqchip/PIT/clock: %s",
			 strerror(-ret));
	sbuf_free(&b);
	free(k);
	return ret;
}

static int send_cpu(struct vm *vm, unsigned i, struct mig_writer *w,
		    char *err, size_t errlen)
{
	struct cpu_snapshot *s = calloc(1, sizeof(*s));
	struct sbuf b = { 0 };
	int ret = s ? cpu_snapshot_get(vm->vcpus[i].fd, i, s) : -ENOMEM;

	if (!ret)
		ret = cpu_snapshot_encode(s, &b);
	if (!ret)
		ret = b.err;
	if (!ret)
		ret = mig_write_record(w, MIG_REC_CPU, b.data, b.len);
	if (ret)
		snprintf(err, errlen, "vCPU %u: %s", i, strerror(-ret));
	sbuf_free(&b);
	free(s);
	return ret;
}

int mig_send_machine(struct vm *vm, struct mig_writer *w, char *err,
		     size_t errlen)
{
	int ret = 0;

	for (struct device *d = vm->devices; d && !ret; d = d->next)
		ret = send_device(d, w, err, errlen);
	if (!ret)
		ret = send_kstate(vm, w, err, errlen);
	for (unsigned i = 0; i < vm->nr_vcpus && !ret; i++)
		ret = send_cpu(vm, i, w, err, errlen);
	return ret;
}

int mig_load_device(struct vm *vm, const struct mig_record *rec, char *err,
		    size_t errlen)
{
	struct sreader in = mig_record_reader(rec);
	char id[sizeof(((struct device *)0)->id)];
	char why[192] = "";
	struct device *d;
	uint64_t len;
	int ret;

	if (sread_le(&in, &len, 2) || len == 0 || len >= sizeof(id) ||
	    sread(&in, id, len)) {
		snprintf(err, errlen, "device record with a bad id");
		return -EBADMSG;
	}
	id[len] = 0;
	d = vm_find_device(vm, id);
	if (!d) {
		snprintf(err, errlen, "the source sent device '%s' that this fvmm lacks",
			 id);
		return -EINVAL;
	}
	ret = d->ops->load(d, &in, why, sizeof(why));
	if (!ret && in.off != in.len) {
		snprintf(why, sizeof(why), "%zu stray bytes", in.len - in.off);
		ret = -EBADMSG;
	}
	if (ret)
		snprintf(err, errlen, "device '%s': %s", id,
			 why[0] ? why : strerror(-ret));
	return ret;
}

int mig_load_kstate(struct vm *vm, const struct mig_record *rec, char *err,
		    size_t errlen)
{
	struct sreader in = mig_record_reader(rec);
	struct vm_ksnapshot *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	ret = vm_ksnapshot_decode(&in, k, err, errlen);
	if (!ret)
		ret = vm_ksnapshot_put(vm->vm_fd, k, err, errlen);
	free(k);
	return ret;
}

int mig_load_cpu(struct vm *vm, const struct mig_record *rec,
		 unsigned *index, char *err, size_t errlen)
{
	struct sreader in = mig_record_reader(rec);
	struct cpu_snapshot *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = cpu_snapshot_decode(&in, s, err, errlen);
	if (!ret && s->index >= vm->nr_vcpus) {
		snprintf(err, errlen, "vCPU %u: this VM has %u", s->index,
			 vm->nr_vcpus);
		ret = -EINVAL;
	}
	if (!ret)
		ret = cpu_snapshot_put(vm->vcpus[s->index].fd, s, err, errlen);
	if (!ret)
		*index = s->index;
	free(s);
	return ret;
}

void mig_load_begin(struct vm *vm)
{
	for (struct device *d = vm->devices; d; d = d->next)
		if (d->ops->load_begin)
			d->ops->load_begin(d);
}

void mig_load_end(struct vm *vm)
{
	for (struct device *d = vm->devices; d; d = d->next)
		if (d->ops->load_end)
			d->ops->load_end(d);
}
