/**
 * The sharding rule, checked on SQL text: every statement that touches a user-scoped table names the
 * owner (the distribution column under Citus, docs/scaling.md), so it runs on one user's shard.
 * - each reference to a user-scoped table (`files f`, `JOIN changes c`, `UPDATE devices`, ...) must be
 *   pinned by `<alias>.owner_id = ...` (or bare `owner_id = ...` / `owner_id = ANY(...)` when unaliased);
 *   `users` by its `id`;
 * - and the statement as a whole must bind an owner to a parameter (`owner_id = $n`, `id = $n`), so a
 *   join on `a.owner_id = b.owner_id` alone cannot range over all users;
 * - an INSERT into a user-scoped table must list its owner column.
 * A statement that must range over all users (maintenance, the email lookup) says so in a leading
 * comment `/* cross-owner: why *\/`, and is reported as such rather than as a violation.
 */

/** Tables whose rows belong to one user, with the column that names the owner. */
export const USER_SCOPED: Record<string, string> = {
  users: "id",
  devices: "owner_id",
  files: "owner_id",
  file_versions: "owner_id",
  file_chunks: "owner_id",
  changes: "owner_id",
  chunk_owners: "owner_id",
  chunk_uploads: "owner_id",
  idempotency_keys: "owner_id",
  outbox: "owner_id",
};

export interface StatementCheck {
  sql: string;
  /** The reason given in a `cross-owner:` comment, when there is one. */
  crossOwner?: string;
  problems: string[];
}

const NOT_ALIASES = new Set([
  "where",
  "on",
  "set",
  "using",
  "select",
  "values",
  "order",
  "group",
  "limit",
  "join",
  "left",
  "inner",
  "cross",
  "for",
  "with",
  "returning",
  "union",
  "as",
  "where",
  "and",
  "or",
  "default",
  "select",
]);

/** Checks one statement (template parameters written as `$1`, `$2`, ...). */
export function checkStatement(text: string): StatementCheck {
  const marker = /\/\*\s*cross-owner:\s*([^*]*?)\s*\*\//i.exec(text);
  const sql = text
    .replace(/\/\*[\s\S]*?\*\//g, " ")
    .replace(/--[^\n]*/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
  const problems: string[] = [];
  let touchesUserScoped = false;
  for (const match of sql.matchAll(
    /\b(from|join|update|into|delete from)\s+([a-z_]+)(?:\s+(?:as\s+)?([a-z_]\w*))?/g,
  )) {
    const [, verb = "", table = "", rawAlias] = match;
    const column = USER_SCOPED[table];
    if (!column) continue;
    touchesUserScoped = true;
    if (verb === "into") {
      const columns = /^\s*\(([^)]*)\)/.exec(
        sql.slice((match.index ?? 0) + match[0].length - (rawAlias?.length ?? 0)),
      );
      if (
        !columns?.[1]
          ?.split(",")
          .map((c) => c.trim())
          .includes(column)
      ) {
        problems.push(`INSERT INTO ${table} does not list ${column}`);
      }
      continue;
    }
    const alias = rawAlias && !NOT_ALIASES.has(rawAlias) ? rawAlias : table;
    const qualified = new RegExp(`\\b${alias}\\.${column}\\s*(=|in\\b)|=\\s*${alias}\\.${column}\\b`);
    const bare = new RegExp(`(^|[^.\\w])${column}\\s*(=|in\\b)`);
    if (!qualified.test(sql) && !(alias === table && bare.test(sql))) {
      problems.push(`${table}${alias !== table ? ` ${alias}` : ""} is not keyed by ${column}`);
    }
  }
  if (
    touchesUserScoped &&
    !/\b(owner_id|id)\s*=\s*(\$\d+|any\s*\(\s*\$\d+)/.test(sql) &&
    !/^insert\b/.test(sql)
  ) {
    problems.push("no owner is bound to a parameter");
  }
  return { sql, ...(marker?.[1] ? { crossOwner: marker[1] } : {}), problems };
}

/** The SQL of every tagged template (`sql\`...\``, `tx\`...\``) in a TypeScript source, parameters as `$n`. */
export function statementsIn(source: string): string[] {
  const statements: string[] = [];
  for (const match of source.matchAll(/\b(?:sql|tx)(?:<[^`]*?>)?`([^`]*)`/g)) {
    let n = 0;
    statements.push((match[1] ?? "").replace(/\$\{[^}]*\}/g, () => `$${++n}`));
  }
  return statements;
}
