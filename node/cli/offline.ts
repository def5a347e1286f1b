import { isSbError } from '../../shared/errors/sb-error.js';

/**
 * Run a node command that talks to the coordinator. On an air-gapped node (file transport) a
 * command stops at its first request still waiting for a carried answer
 * (`SB_ERR_AIRGAP_PENDING`): then write the waiting requests into a signed export file, say which
 * file to carry and what to run after, and resolve to undefined (not a failure: the command is
 * run again once the answer is imported). Other errors are thrown as they are.
 */
export async function orCarry<T>(home: string, command: string, run: () => Promise<T>): Promise<T | undefined> {
  const { AIRGAP_PENDING } = await import('../client/file-transport.js');
  try {
    return await run();
  } catch (e) {
    if (!isSbError(e) || e.code !== AIRGAP_PENDING) throw e;
    const { exportPending } = await import('../client/airgap-files.js');
    const carry = await exportPending({ home, onlyNew: true });
    process.stdout.write(
      carry
        ? `Offline: wacht op de coördinator / waits for the coordinator.\n` +
            `Exportbestand om naar de coördinator te brengen / export file to carry: ${carry.file}\n` +
            `  ${carry.requests.length} request(s): ${carry.requests.map((r) => `${r.method} ${r.path}`).join(', ')}\n` +
            "At the coordinator: 'sectorbench coordinator import --home DIR FILE'; bring back the response file, " +
            `run 'sectorbench node import-response --home ${home} FILE', then '${command}' again.\n`
        : `Offline: ${e.message}\nThen run '${command}' again.\n`,
    );
    return undefined;
  }
}
