using CallNotify.Application.Common.Behaviours;
using Mediator;
using Microsoft.Extensions.Logging;

namespace CallNotify.Application.Tests.Common.Behaviours;

public sealed class TimingBehaviourTests
{
    [Test]
    public async Task TheFirstRunOfAKindOfMessageIsNotJudgedButASlowLaterOneIsWarnedAbout()
    {
        var log = new WarningLog();
        var behaviour = new TimingBehaviour<SlowMessage, int>(log);
        static async ValueTask<int> Slow(SlowMessage message, CancellationToken cancellationToken)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(600), cancellationToken);
            return 1;
        }

        await behaviour.Handle(new SlowMessage(), Slow, CancellationToken.None);
        var afterFirst = log.Warnings;
        await behaviour.Handle(new SlowMessage(), Slow, CancellationToken.None);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(afterFirst, Is.Zero, "the first run compiles its path");
            Assert.That(log.Warnings, Is.EqualTo(1), "a slow later run is warned about");
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
