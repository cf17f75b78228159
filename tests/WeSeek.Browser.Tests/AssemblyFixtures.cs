using WeSeek.TestKit;

// No test writes into the real per-user data directory.
[assembly: AssemblyFixture(typeof(IsolatedWeSeekHome))]
