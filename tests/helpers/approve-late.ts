import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalNode, LocalRound } from '../../demo/local-round.js';
import { addApprover, approveRound, approverKeygen } from '../../node/audit/approval.js';
import { previewRound } from '../../node/audit/preview.js';

/**
 * A new privacy officer of `node` reads the late preview (a late or corrected contribution, sent
 * unmasked) and approves exactly that vector with `late` (DECISIONS 84). Returns the preview's
 * protection text as the officer read it.
 */
export async function approveLate(round: LocalRound, node: LocalNode): Promise<string> {
  const dir = join(round.out, 'approvers');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, `${node.id}-late.key`);
  const { publicKeyFile } = await approverKeygen(keyFile);
  await addApprover({ home: node.home, publicKeyFile, name: `Privacy officer ${node.id}`, now: round.now });
  const { preview } = await previewRound({ home: node.home, roundId: round.roundId, late: true, now: round.now });
  await approveRound({
    home: node.home,
    roundId: round.roundId,
    approverKeyFile: keyFile,
    expectDigest: preview.vector_digest,
    late: true,
    now: round.now,
  });
  return preview.protection.text_nl;
}
