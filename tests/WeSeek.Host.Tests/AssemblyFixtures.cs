using WeSeek.TestKit;

// No test writes into the real per-user data directory, whichever host or process it starts.
[assembly: AssemblyFixture(typeof(IsolatedWeSeekHome))]
