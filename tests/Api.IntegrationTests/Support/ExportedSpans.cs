using System.Collections.ObjectModel;
using System.Diagnostics;

namespace CallNotify.Api.IntegrationTests.Support;

/// <summary>The in-memory exporter's list, safe to read while the service adds to it.</summary>
public sealed class ExportedSpans : Collection<Activity>
{
    private readonly Lock _lock = new();

    public List<Activity> Snapshot()
    {
        lock (_lock)
        {
            return [.. Items];
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (_lock)
        {
            base.InsertItem(index, item);
        }
    }

    protected override void ClearItems()
    {
        lock (_lock)
        {
            base.ClearItems();
        }
    }
}
