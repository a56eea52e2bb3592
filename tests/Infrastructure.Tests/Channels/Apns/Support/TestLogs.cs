using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CallNotify.Infrastructure.Tests.Channels.Apns.Support;

internal sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception)
{
    /// <summary>Everything the entry would put in a log sink.</summary>
    public string FullText => Exception is null ? Message : Message + Environment.NewLine + Exception;
}

/// <summary>Collects every log entry at every level, for tests that look at what was (not) logged.</summary>
internal sealed class TestLogs : ILoggerProvider
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TestLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? " " + string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}"))
                : string.Empty;
            logs.Entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception) + values, exception));
        }
    }
}
