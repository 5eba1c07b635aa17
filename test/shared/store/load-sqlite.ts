/** Loads node:sqlite as the store does, then emits another experimental warning (sqlite-records.test.ts reads stderr). */
import { loadSqlite } from "../../../shared/store/sqlite-records.ts";

loadSqlite();
process.emitWarning("Something else is experimental", "ExperimentalWarning");
