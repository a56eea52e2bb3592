using System.Diagnostics;

namespace CallNotify.Bench;

/// <summary>
/// What happened to each request of one scenario, indexed by its sequence number: when it was sent and answered, its
/// status, and when its notification reached a client. Stopwatch ticks throughout, one clock for sender and receivers.
/// Chunks are allocated as the sequence grows, so nothing is resized while workers and receivers write concurrently.
/// </summary>
internal sealed class RequestLog
{
    /// <summary>Status recorded for a request that got no HTTP answer (timeout, connection error).</summary>
    public const int NoAnswer = -1;

    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;
    private const int MaxChunks = 4096;

    private readonly Entry[]?[] _chunks = new Entry[MaxChunks][];
    private long _count;
    private long _duplicates;
    private long _misrouted;
    private long _corrupted;
    private long _unknown;

    /// <summary>How many sequence numbers have been handed out.</summary>
    public long Count => Interlocked.Read(ref _count);

    public long Duplicates => Interlocked.Read(ref _duplicates);

    public long Misrouted => Interlocked.Read(ref _misrouted);

    public long Corrupted => Interlocked.Read(ref _corrupted);

    public long Unknown => Interlocked.Read(ref _unknown);

    /// <summary>Hands out the next sequence number and stamps it as sent now.</summary>
    public long Next()
    {
        var seq = Interlocked.Increment(ref _count) - 1;
        ref var entry = ref Slot(seq, allocate: true);
        Volatile.Write(ref entry.Sent, Stopwatch.GetTimestamp());
        return seq;
    }

    /// <summary>Re-stamps the send time just before the request goes out (after it was built and signed).</summary>
    public void MarkSent(long seq) => Volatile.Write(ref Slot(seq, allocate: false).Sent, Stopwatch.GetTimestamp());

    public void Answered(long seq, int status)
    {
        ref var entry = ref Slot(seq, allocate: false);
        entry.Status = status;
        Volatile.Write(ref entry.Done, Stopwatch.GetTimestamp());
    }

    /// <summary>A receiver got the notification of <paramref name="seq"/> at <paramref name="ticks"/>.</summary>
    public void Delivered(long seq, long ticks, bool routedRight, bool intact)
    {
        if (seq < 0 || seq >= Count)
        {
            Interlocked.Increment(ref _unknown);
            return;
        }

        ref var entry = ref Slot(seq, allocate: false);
        if (Interlocked.CompareExchange(ref entry.Delivered, ticks, 0) != 0)
        {
            Interlocked.Increment(ref _duplicates);
        }

        if (!routedRight)
        {
            Interlocked.Increment(ref _misrouted);
        }

        if (!intact)
        {
            Interlocked.Increment(ref _corrupted);
        }
    }

    /// <summary>Something arrived that is no request of this run.</summary>
    public void Stray() => Interlocked.Increment(ref _unknown);

    public Entry Get(long seq)
    {
        ref var entry = ref Slot(seq, allocate: false);
        return new Entry
        {
            Sent = Volatile.Read(ref entry.Sent),
            Done = Volatile.Read(ref entry.Done),
            Status = entry.Status,
            Delivered = Volatile.Read(ref entry.Delivered),
        };
    }

    /// <summary>Answered 200 but not (yet) delivered.</summary>
    public long Undelivered()
    {
        long missing = 0;
        for (long seq = 0; seq < Count; seq++)
        {
            var entry = Get(seq);
            if (entry.Status == 200 && entry.Delivered == 0)
            {
                missing++;
            }
        }

        return missing;
    }

    private ref Entry Slot(long seq, bool allocate)
    {
        var index = (int)(seq >> ChunkBits);
        if (index >= MaxChunks)
        {
            throw new InvalidOperationException($"More than {(long)MaxChunks * ChunkSize} requests in one scenario.");
        }

        var chunk = Volatile.Read(ref _chunks[index]);
        if (chunk is null)
        {
            if (!allocate)
            {
                throw new InvalidOperationException($"Request {seq} was never sent.");
            }

            Interlocked.CompareExchange(ref _chunks[index], new Entry[ChunkSize], null);
            chunk = Volatile.Read(ref _chunks[index])!;
        }

        return ref chunk[seq & (ChunkSize - 1)];
    }

    internal struct Entry
    {
        public long Sent;
        public long Done;
        public int Status;
        public long Delivered;
    }
}
