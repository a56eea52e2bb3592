using FsCheck;

namespace CallNotify.Tests.Common;

/// <summary>
/// Runs an FsCheck property under a generous wall-clock bound, so that a hang (e.g. a parser looping on hostile input)
/// fails the test instead of stalling the run. The bound is for the whole run, never a timing assertion on one case.
/// A failure names the counterexample and the seed to replay it with (FsCheck's own report).
/// </summary>
public static class PropertyRuns
{
    public static readonly TimeSpan DefaultBound = TimeSpan.FromMinutes(2);

    public static Task CheckAsync(Property property, int maxTest, string name) => CheckAsync(property, maxTest, name, DefaultBound);

    public static async Task CheckAsync(Property property, int maxTest, string name, TimeSpan bound)
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(maxTest).WithQuietOnSuccess(true).WithName(name);
        var run = Task.Run(() => Check.One(config, property));
        try
        {
            await run.WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The property '{name}' did not finish {maxTest} cases within {bound}: some input hangs or is pathologically slow.");
        }
    }

    /// <summary>
    /// A failed expectation inside a property. Properties throw this rather than calling NUnit's asserts, which would
    /// record every failure FsCheck meets while shrinking as a failure of the test.
    /// </summary>
    public static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new PropertyViolationException(message);
        }
    }
}

public sealed class PropertyViolationException : Exception
{
    public PropertyViolationException()
    {
    }

    public PropertyViolationException(string message)
        : base(message)
    {
    }

    public PropertyViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
