using Eddy.Fuzz;
using SharpFuzz;

// Under afl-fuzz (fuzz/run.sh): `Eddy.Fuzz TARGET` runs the target on each input afl-fuzz sends.
// By hand: `Eddy.Fuzz TARGET FILE...` replays files and prints each outcome, to reproduce a finding.
if (args.Length == 0 || !FuzzTargets.IsKnown(args[0]))
{
    Console.Error.WriteLine($"usage: Eddy.Fuzz {string.Join('|', FuzzTargets.Names)} [FILE...]");
    return 2;
}

string target = args[0];
if (args.Length == 1)
{
    Fuzzer.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        _ = FuzzTargets.Run(target, buffer.ToArray());
    });
    return 0;
}

int failed = 0;
foreach (string file in args.Skip(1))
{
    try
    {
        string transcript = FuzzTargets.Run(target, File.ReadAllBytes(file));
        Console.WriteLine($"ok    {file}\n      {transcript.TrimEnd().Replace("\n", "\n      ")}");
    }
    catch (Exception e)
    {
        failed++;
        Console.WriteLine($"FAIL  {file}: {e}");
    }
}
return failed == 0 ? 0 : 1;
