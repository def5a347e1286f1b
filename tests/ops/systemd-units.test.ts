// The example systemd units in docs/systemd/: valid for systemd (`systemd-analyze verify`, when
// systemd-analyze is on the machine), hardened (`systemd-analyze security --offline`: exposure
// at most 2.5 of 10), run as the dedicated user, and every sectorbench command they start is one
// the CLI has, with the options it has.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import t from 'tap';
import { buildProgram } from '../../cli/main.js';
import { repoRoot } from '../helpers/paths.js';

const DIR = join(repoRoot, 'docs/systemd');
const units = readdirSync(DIR).filter((f) => /\.(service|timer)$/.test(f));
const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;

t.ok(units.length >= 5, 'coordinator, its backup, the node round and the doctor, with their timers');

for (const unit of units) {
  t.test(unit, async (t) => {
    const text = readFileSync(join(DIR, unit), 'utf8');
    if (unit.endsWith('.timer')) {
      t.match(text, /^\[Timer\]$/m);
      t.ok(
        units.includes(unit.replace(/\.timer$/, '.service')),
        'starts a service of the same name that is in docs/systemd',
      );
    } else {
      t.match(text, /^User=sectorbench$/m, 'runs as the dedicated user');
      t.match(text, /^NoNewPrivileges=yes$/m);
      t.match(text, /^ProtectSystem=strict$/m);
      t.match(text, /^CapabilityBoundingSet=$/m, 'no capabilities');
      const execs = [...text.matchAll(/^Exec\w*=.*?sectorbench\.js ([^'\n]+)/gm)].map((m) =>
        (m[1] as string).replace(/\$\([^)]*\)/g, 'X').trim(),
      );
      t.ok(execs.length > 0, 'starts sectorbench');
      for (const line of execs) {
        const words = line.split(/\s+/);
        let cmd: Command = buildProgram();
        const path: string[] = [];
        while (words[0] && !words[0].startsWith('-')) {
          const name = words.shift() as string;
          const sub = cmd.commands.find((c) => c.name() === name);
          if (!sub) break;
          cmd = sub;
          path.push(name);
        }
        t.ok(path.length > 0 && cmd.commands.length === 0, `'sectorbench ${path.join(' ')}' is a command`);
        const known = new Set(cmd.options.map((o) => o.long));
        for (const w of words.filter((x) => x.startsWith('--'))) t.ok(known.has(w), `${path.join(' ')} has ${w}`);
        for (const o of cmd.options.filter((x) => x.mandatory))
          t.ok(words.includes(o.long as string), `${path.join(' ')}: required ${o.long} given`);
      }
    }
    if (!analyze) {
      t.comment('systemd-analyze is not on this machine: verify and security not run');
      return;
    }
    const v = spawnSync('systemd-analyze', ['verify', '--man=no', join(DIR, unit)], { encoding: 'utf8' });
    t.equal(v.status, 0, `systemd-analyze verify: ${v.stderr}`);
    t.equal(v.stderr.trim(), '', 'no complaints');
    if (unit.endsWith('.service')) {
      const s = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', join(DIR, unit)], {
        encoding: 'utf8',
      });
      const level = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(s.stdout + s.stderr)?.[1]);
      t.ok(level <= 2.5, `exposure level ${level} <= 2.5 (systemd-analyze security)`);
    }
  });
}
