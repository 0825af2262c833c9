using Eddy.Interop;

namespace Eddy.UnitTests.Interop;

public class MappedFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"eddy-mapped-{Guid.NewGuid():N}.bin");

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void SlicesAreTheFilesBytesAtTheirOffsets()
    {
        byte[] content = new byte[200_000];
        new Random(7).NextBytes(content);
        File.WriteAllBytes(_path, content);

        using MappedFile mapped = Map();

        Assert.Equal(content.Length, mapped.Length);
        foreach (var (offset, length) in new[] { (0, 10), (4095, 2), (65_536, 65_536), (199_990, 10), (200_000, 0), (0, 200_000) })
        {
            Assert.True(mapped.Slice(offset, length).SequenceEqual(content.AsSpan(offset, length)), $"[{offset}, +{length})");
        }
    }

    [Fact]
    public void ASliceBeyondTheEndOrAfterDisposeThrows()
    {
        File.WriteAllBytes(_path, new byte[100]);
        MappedFile mapped = Map();

        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.Slice(90, 11).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.Slice(101, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.Slice(-1, 1).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.Slice(0, -1).Length);
        mapped.Dispose();
        mapped.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => mapped.Slice(0, 1).Length);
    }

    [Fact]
    public void AnEmptyFileMapsNothing()
    {
        File.WriteAllBytes(_path, []);

        using MappedFile mapped = Map();

        Assert.Equal(0, mapped.Length);
        Assert.True(mapped.Slice(0, 0).IsEmpty);
        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.Slice(0, 1).Length);
    }

    private MappedFile Map()
    {
        using var file = File.OpenHandle(_path);
        return MappedFile.Map(file); // the mapping outlives the handle
    }
}
