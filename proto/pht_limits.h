/* pht_limits.h — every maximum PHT enforces, in one place, so that every command agrees. */
#ifndef PHT_LIMITS_H
#define PHT_LIMITS_H

/*
 * The chain the wire imposes: a train, result, permit or revocation list is
 * the payload of a signed envelope, so none of them can be larger than
 * PHT_ENVELOPE_MAX_PAYLOAD, and an envelope's text (base64 of the payload
 * plus a few fields) is at most PHT_ENVELOPE_MAX. A limit that a command
 * applies to a file it reads is one of these, never a value of its own.
 * tests/proto/test_limits.c checks the relations stated here.
 */

/* ---- identifiers (pht_id.h) ---- */
#define PHT_ID_MAX 128          /* train ids on the node, permit ids, queue ids */
#define PHT_NAME_MAX 64         /* station, dataset and column names */

/* ---- signed envelopes and their payloads ---- */
#define PHT_ENVELOPE_MAX (4u << 20)             /* envelope text */
#define PHT_ENVELOPE_MAX_PAYLOAD (2u << 20)     /* decoded payload */
#define PHT_TRAINMSG_MAX PHT_ENVELOPE_MAX_PAYLOAD  /* train payload */
#define PHT_RESULTMSG_MAX PHT_ENVELOPE_MAX_PAYLOAD /* result payload */
#define PHT_PERMIT_MAX (1u << 20)       /* permit, revocations, halt, code approval */
#define PHT_TRAINMSG_MAX_PERMIT 65536   /* a permit envelope embedded in a train */

/*
 * Train source: what `pht train sign`, `pht permit`, `pht run`, `pht sim`
 * and `pht audit` read. Its JSON string must fit in a train payload.
 */
#define PHT_TRAIN_CODE_MAX (1u << 20)

/*
 * Sealing: the largest plaintext pht_seal() accepts. A result's sealed
 * output must still fit in PHT_RESULTMSG_MAX once base64-encoded; the
 * train's output cap (1 MiB of JSON, docs/train-api.md) keeps it there.
 */
#define PHT_SEAL_MAX_PLAIN (16u << 20)

/* ---- station files ---- */
/* A data dictionary: the size a station loads is the size it publishes. */
#define PHT_DICT_MAX ((size_t)16 << 20)
#define PHT_STATION_CONFIG_MAX ((size_t)1 << 20)    /* station.conf */
#define PHT_QUEUE_ITEM_MAX ((size_t)8 << 20)        /* one approval queue entry */
#define PHT_OUTBOX_ITEM_MAX ((size_t)32 << 20)      /* one outbox entry */
#define PHT_SEEN_MAX ((size_t)256 << 20)            /* the seen-ids file */
#define PHT_GOV_STATE_MAX ((size_t)64 << 20)        /* governance state */
#define PHT_OPTOUT_FILE_MAX ((size_t)256 << 20)     /* an opt-out list */
#define PHT_AUDIT_LINE_MAX (32u * 1024 * 1024)      /* one audit log line */

#endif
