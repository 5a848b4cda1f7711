// The replicated machine helper lives with the benchmarks (compiled with them); tests use the same one.
export * from '../../bench/support/replica-machine.js';
