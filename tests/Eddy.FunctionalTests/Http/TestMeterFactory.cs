using System.Diagnostics.Metrics;

namespace Eddy.FunctionalTests.Http;

/// <summary>
/// An <see cref="IMeterFactory"/> of one test: its meters carry it as their scope, so a
/// <c>MetricCollector</c> given the factory sees this test's server only (as the host's factory scopes an app's).
/// </summary>
internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        options.Scope = this;
        var meter = new Meter(options);
        lock (_meters)
        {
            _meters.Add(meter);
        }
        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _meters.ForEach(meter => meter.Dispose());
            _meters.Clear();
        }
    }
}
