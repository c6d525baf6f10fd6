// Must NOT compile: each line is a mistake the types catch.
import { Client } from 'floodgate';
const fg = new Client({ failure: 'open' });
void fg.check('api', 'k', { cost: '1' });
