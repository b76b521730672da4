/**
 * The first admin key. Keys are stored only as HMACs, so an operator cannot bring one of their own:
 * on a fresh database the service issues one and prints it once, like a generated initial password.
 */
import type { CreatedApiKey } from '@plat/apikeys';
import { ADMIN_SCOPE, type WorkflowService } from './service';

export const ADMIN_OWNER = 'admin';

/**
 * Issues the bootstrap admin key when the admin owner has no active key, and logs it once.
 * Returns the new key, or undefined when one already exists.
 *
 * @example
 * ```ts
 * const created = await ensureAdminKey(service);
 * ```
 */
export async function ensureAdminKey(
  service: WorkflowService,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<CreatedApiKey | undefined> {
  const existing = await service.keys.list(ADMIN_OWNER);
  if (existing.some((key) => key.status === 'active')) return undefined;
  const created = await service.keys.create({
    ownerId: ADMIN_OWNER,
    name: 'bootstrap admin',
    scopes: [ADMIN_SCOPE],
    expiresInDays: 1,
  });
  // Printed, not logged: the logger redacts anything shaped like an API key, as it should.
  print(`Admin API key (shown once, valid 1 day): ${created.key}`);
  return created;
}
