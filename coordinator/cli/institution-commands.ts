import type { Command } from 'commander';
import { readPublicIdentityFile } from '../../shared/crypto/identity.js';
import { out, withHome } from './options.js';

/** `sectorbench coordinator institution add | list | revoke`: the institution registry (Ed25519 public keys). */
export function registerInstitutionCommands(c: Command): void {
  const inst = c.command('institution').description('the institution registry (Ed25519 public keys)');
  registerAdd(inst);
  registerList(inst);
  registerRevoke(inst);
}

function registerAdd(inst: Command): void {
  inst
    .command('add')
    .description("register an institution's node key")
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--id <id>', 'institution id')
    .requiredOption('--key <file.pub>', "the node's public identity file")
    .action(async (o: { home: string; id: string; key: string }) => {
      const { addInstitution } = await import('../store/institutions.js');
      const pk = await readPublicIdentityFile(o.key);
      const r = await withHome(o.home, (h) => addInstitution(h.db, { id: o.id, publicKey: pk, now: new Date() }));
      out(
        `Registered ${r.id}.\nFingerprint: ${r.fingerprint}\nCompare it with the fingerprint the institution reads out.`,
      );
    });
}

function registerList(inst: Command): void {
  inst
    .command('list')
    .description('list registered institutions')
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .option('--json', 'print JSON')
    .action(async (o: { home: string; json?: boolean }) => {
      const { listInstitutions } = await import('../store/institutions.js');
      const list = await withHome(o.home, (h) => listInstitutions(h.db));
      if (o.json) return out(JSON.stringify(list, null, 2));
      if (!list.length) return out('No institutions registered.');
      for (const i of list)
        out(`${i.id.padEnd(12)} ${i.fingerprint}  added ${i.addedAt}${i.revokedAt ? `  REVOKED ${i.revokedAt}` : ''}`);
    });
}

function registerRevoke(inst: Command): void {
  inst
    .command('revoke')
    .description("revoke an institution's key: its requests are refused from now on")
    .requiredOption('--home <dir>', "the coordinator's home folder")
    .requiredOption('--id <id>', 'institution id')
    .action(async (o: { home: string; id: string }) => {
      const { revokeInstitution } = await import('../store/institutions.js');
      const r = await withHome(o.home, (h) => revokeInstitution(h.db, { id: o.id, now: new Date() }));
      out(`Revoked ${r.id} (${r.revokedAt}).`);
    });
}
