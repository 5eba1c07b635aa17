/**
 * An account as it may stand in a local file's name (the spool's, the dead letters'): the
 * characters a name may hold, at most 64 of them. Two accounts that read the same once
 * cleaned are told apart by what the name adds beside it (a hash).
 */
export const accountInName = (account: string) => account.replace(/[^0-9A-Za-z_-]/g, "").slice(0, 64);
