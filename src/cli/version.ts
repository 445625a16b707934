/** Kept equal to package.json's version by a unit test; read at no cost at start-up. */
export const VERSION = '0.1.0';
