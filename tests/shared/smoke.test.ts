import t from 'tap';
import { CELL_SLOTS, GROUP_SLOTS } from '../../shared/metrics/slots.js';
t.equal(CELL_SLOTS.length, 64);
t.equal(GROUP_SLOTS.length, 24);
