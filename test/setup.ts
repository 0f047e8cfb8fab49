// Runs in every test file: temp dirs go when the file is done (vitest workers skip process 'exit' hooks).
import { afterAll } from 'vitest';
import { removeTmpDirs } from './helpers/tmp.js';

afterAll(() => removeTmpDirs());
