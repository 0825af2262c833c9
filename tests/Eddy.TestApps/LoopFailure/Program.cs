// Run by tests/Eddy.FunctionalTests/LoopGroups/LoopFailureTests: a group of two loops whose first loop's selector
// throws once the group runs. The process must end by itself (Environment.FailFast) with the exception on stderr.
using Eddy.FunctionalTests.LoopGroups;
using Eddy.Loop;

var failing = new FailingSelector();
using var group = new LoopGroup(2, i => new EventLoopOptions { Name = $"test-loop-{i}", Selector = i == 0 ? failing : null });
group.Start();
Console.WriteLine("started");
failing.Fail = true;
Thread.Sleep(TimeSpan.FromSeconds(60)); // the failure ends the process long before this
Console.WriteLine("still alive");
return 0;
