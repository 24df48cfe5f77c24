"""The forward (noising) process on any image: closed form, Markov chain, exports."""
