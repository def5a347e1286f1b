import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { addApprover, approveRound, approverKeygen } from '../node/audit/approval.js';
import { previewRound } from '../node/audit/preview.js';
import type { LocalNode, LocalRound } from './local-round.js';

/**
 * What a privacy officer does before a node may submit (issue 6): a generated approver key per
 * institution (kept under `<out>/approvers/`, outside the node's home), registered with the node,
 * the preview read, and the round approved for exactly the vector that will be sent.
 */
export async function approveAsPrivacyOfficer(node: LocalNode, round: LocalRound): Promise<void> {
  const dir = join(round.out, 'approvers');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = join(dir, `${node.id}.key`);
  // A fresh run makes fresh officers (approver keys are never overwritten in place).
  rmSync(keyFile, { force: true });
  rmSync(`${keyFile}.pub`, { force: true });
  const { publicKeyFile } = await approverKeygen(keyFile);
  await addApprover({ home: node.home, publicKeyFile, name: `Privacy officer ${node.id}`, now: round.now });
  const { preview } = await previewRound({ home: node.home, roundId: round.roundId, now: round.now });
  await approveRound({
    home: node.home,
    roundId: round.roundId,
    approverKeyFile: keyFile,
    expectDigest: preview.vector_digest,
    now: round.now,
  });
}
