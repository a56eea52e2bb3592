using CallNotify.Application.Common.Behaviours;
using Mediator;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CallNotify.Application.Tests.Common.Behaviours;

public sealed class TimingBehaviourTests
{
    [Test]
    public async Task TheFirstRunOfAKindOfMessageIsNotJudgedButASlowLaterOneIsWarnedAbout()
    {
        var log = new WarningLog();
        var time = new FakeTimeProvider();
        var behaviour = new TimingBehaviour<SlowMessage, int>(log, time);
        ValueTask<int> Slow(SlowMessage message, CancellationToken cancellationToken)
        {
            time.Advance(TimeSpan.FromMilliseconds(600));
            return ValueTask.FromResult(1);
        }

        await behaviour.Handle(new SlowMessage(), Slow, CancellationToken.None);
        var afterFirst = log.Warnings;
        await behaviour.Handle(new SlowMessage(), Slow, CancellationToken.None);
        var afterSecond = log.Warnings;
        await behaviour.Handle(
            new SlowMessage(),
            (_, _) =>
            {
                time.Advance(TimeSpan.FromMilliseconds(400));
                return ValueTask.FromResult(1);
            },
            CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterFirst, Is.Zero, "the first run compiles its path");
            Assert.That(afterSecond, Is.EqualTo(1), "a slow later run is warned about");
            Assert.That(log.Warnings, Is.EqualTo(1), "a quick one is not");
        }
    }

    private sealed record SlowMessage : IMessage;

    private sealed class WarningLog : ILogger<TimingBehaviour<SlowMessage, int>>
    {
        public int Warnings { get; private set; }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings++;
            }
        }
    }
}
