/* cmd_audit_archive.h — pht audit export|rotate|prune and verify of bundles and rotated files (cmd_audit_archive.c). */
#ifndef CMD_AUDIT_ARCHIVE_H
#define CMD_AUDIT_ARCHIVE_H

/* pht audit export ...; argv[1] is "export". */
int pht_cmd_audit_export(int argc, char **argv);
/* pht audit rotate ...; argv[1] is "rotate". */
int pht_cmd_audit_rotate(int argc, char **argv);
/* pht audit prune ...; argv[1] is "prune". */
int pht_cmd_audit_prune(int argc, char **argv);

/*
 * True when `pht audit verify` is asked about a bundle (--bundle, or a
 * directory) or about several files; pht_cmd_audit_verify_set handles it.
 */
int pht_cmd_audit_verify_is_set(int argc, char **argv);
int pht_cmd_audit_verify_set(int argc, char **argv);

#endif
