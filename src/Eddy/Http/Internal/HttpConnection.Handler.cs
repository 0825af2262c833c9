using System.Diagnostics;
using System.Runtime.CompilerServices;
using Eddy.Http.Parsing;
using Eddy.Http.Parsing.Internal;
using Eddy.Loop;

namespace Eddy.Http.Internal;

// Running the handler, and what its failure costs.
//
// A handler runs once its request's head is complete. One that completes synchronously costs nothing
// more; one that goes asynchronous holds the connection's next requests (in order, in _input) until it
// is done. A failure before the response has started becomes a 500 (or, for a body that broke its
// framing, limit or rate, that rejection's 4xx) with the details logged; after it has started, the part
// of the response already made is cut off at the last whole answer and the connection closes: the
// client sees the response end short, never another request's bytes in its place.
internal sealed partial class HttpConnection
{
    private int _responseStart;             // where the current response begins in _output
    private readonly HttpMetrics _metrics;
    private long _requestStartedAt;         // for http.server.request.duration; 0 when the request is not timed
    private bool _countedActive;            // http.server.active_requests counted this request: the decrement must match

    /// <summary>The head of <c>_head</c> is parsed: start its request and run the handler.</summary>
    private void StartRequest()
    {
        _timeouts.CancelTimeout(); // the head is in: the request's own limits take over
        _state = State.Handler;
        _context.SetDone(false); // the objects are this request's now
        BeginBody();
        HttpMetrics metrics = _metrics;
        if (metrics.ActiveRequests.Enabled | metrics.RequestDuration.Enabled)
        {
            BeginRequestMetrics();
        }
        RunHandler();
    }

    /// <summary>Whether the connection closes after the current response (its head then says <c>Connection: close</c>).</summary>
    private bool ShouldCloseAfterResponse() => !_head.KeepAlive || _shuttingDown || _mustClose || AwaitsContinue;

    /// <summary>A fresh response for the current request. (The context was reset when the previous request finished.)</summary>
    private void PrepareResponse()
    {
        _response.Reset();
        _responseStart = _output.Length;
        _response.IsHead = _head.Verb == HttpVerb.Head;
        _response.CloseConnection = ShouldCloseAfterResponse();
    }

    private void RunHandler()
    {
        PrepareResponse();
        ValueTask task;
        // Names the request for the loop's watchdog, should the handler block the loop thread: one field write.
        _loop.SetActivity(_context);
        try
        {
            task = _application(_context);
        }
        catch (Exception e)
        {
            _loop.SetActivity(null);
            if (_state == State.Upgraded)
            {
                EndRequestMetrics();
                EndUpgraded(e);
                return;
            }
            OnHandlerFailed(e);
            FinishRequest();
            return;
        }
        _loop.SetActivity(null);
        if (task.IsCompletedSuccessfully)
        {
            task.GetAwaiter().GetResult(); // for an IValueTaskSource-backed task: release it
            FinishRequest();
        }
        else
        {
            _ = AwaitHandlerAsync(task);
        }
    }

    private async Task AwaitHandlerAsync(ValueTask task)
    {
        Exception? handlerError = null;
        try
        {
            await task; // resumes on the loop thread
        }
        catch (IOException) when (_state == State.Closed || _transport.IsClosing)
        {
            // The connection was lost under the handler (the client went away or read too slowly): not a bug to log.
        }
        catch (Exception e)
        {
            handlerError = e;
        }
        try
        {
            if (_state == State.Upgraded)
            {
                EndRequestMetrics();
                EndUpgraded(handlerError); // the new protocol's business: nothing of HTTP is left to finish
                return;
            }
            if (handlerError is not null)
            {
                OnHandlerFailed(handlerError);
            }
            if (_state == State.Closed)
            {
                EndRequestMetrics();
                _context.SetDone(true);
                return;
            }
            FinishRequest();
            Pump(); // the requests that queued up behind this one
            EndBatch();
        }
        catch (Exception e)
        {
            // A bug in the connection itself: nobody awaits this task, so say it loudly and end the connection
            // rather than leave it hanging.
            _loop.CallExceptionHandler(new LoopExceptionContext("The HTTP connection failed after a handler completed", e, source: _transport));
            _state = State.Closed;
            _transport.Abort();
        }
    }

    private void OnHandlerFailed(Exception error)
    {
        if (error is HttpRejectException reject)
        {
            // The body broke its framing, its limit or its rate (or the handler rejected the request itself):
            // the client's doing, answered with the rejection's status and not logged as a bug.
            _mustClose = true;
            if (_response.HasStarted)
            {
                CutResponse();
                return;
            }
            PrepareResponse();
            _response.StatusCode = reject.StatusCode;
            // A form's rejection names the rule it broke (its message echoes no request bytes); others say their reason.
            _response.Text(reject.Reason is HttpRejectReason.InvalidForm or HttpRejectReason.FormTooLarge
                ? reject.Message + "\n"
                : HttpReject.Describe(reject.Reason) + ".\n");
            return;
        }
        _loop.CallExceptionHandler(new LoopExceptionContext(
            $"Unhandled exception in the HTTP handler for \"{Escape(_request.Method)} {Escape(_request.RawTarget)}\"", error, source: _transport));
        if (_response.HasStarted)
        {
            CutResponse();
            return;
        }
        // 500 without internal details; the details went to the log.
        PrepareResponse();
        _response.StatusCode = 500;
        _response.Text("Internal Server Error\n");
    }

    /// <summary>
    /// Part of the response is out and the rest never will be: keep the whole answers before it, drop its
    /// unsent part, and close. The client sees EOF before the announced length or the last chunk: a truncated
    /// response, not a mixed-up one.
    /// </summary>
    private void CutResponse()
    {
        _output.Truncate(_responseStart);
        FailBodyRead(new IOException("The response failed."));
        CloseAfterFlush();
    }

    /// <summary>Completes the response and readies the connection for the next request (or closes it).</summary>
    private void FinishRequest()
    {
        if (_countedActive | _requestStartedAt != 0)
        {
            EndRequestMetrics();
        }
        if (_state >= State.Closed)
        {
            _context.SetDone(true); // the handler has completed: see RequestLifetime
            if (_state == State.Upgraded)
            {
                EndUpgraded(null);
            }
            return;
        }
        _response.CompleteStream();
        _context.SetDone(true); // the handler has completed: see RequestLifetime
        if (_response.IsTruncated)
        {
            CloseAfterFlush(); // the client sees EOF before the announced length: a truncated response, not a mixed-up one
            return;
        }
        bool keepAlive = !_response.CloseConnection && !ShouldCloseAfterResponse();
        if (_bodyRead is { IsPending: true })
        {
            FailBody(new InvalidOperationException("The request has completed: its body can no longer be read."));
        }
        _request.Reset();
        _context.Reset();
        if (!keepAlive)
        {
            CloseAfterFlush();
            return;
        }
        _timeouts.StopTimingReads();
        if (!_body.IsComplete)
        {
            StartDrain();
            return;
        }
        _state = State.Head;
        if (_output.Length > _transport.WriteBufferHighWaterMark)
        {
            Flush(); // a large batch: let the transport say whether the client keeps up before the next request
        }
        // The next timeout (idle, or the next request's head) is armed once per batch, in EndBatch.
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void BeginRequestMetrics()
    {
        HttpMetrics metrics = _metrics;
        if (metrics.ActiveRequests.Enabled)
        {
            metrics.AddActive(1, _request.Verb, _request.Tls is not null);
            _countedActive = true;
        }
        if (metrics.RequestDuration.Enabled)
        {
            _requestStartedAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Ends the request's measurements, once: the request's head and the context are still those of the request.</summary>
    private void EndRequestMetrics()
    {
        HttpMetrics metrics = _metrics;
        if (_countedActive)
        {
            _countedActive = false;
            metrics.AddActive(-1, _request.Verb, _request.Tls is not null);
        }
        if (_requestStartedAt != 0)
        {
            long startedAt = _requestStartedAt;
            _requestStartedAt = 0;
            if (metrics.RequestDuration.Enabled)
            {
                metrics.RecordDuration(startedAt, HttpMetrics.MethodTag(_request), _request.Scheme, _response.StatusCode, _context.Route);
            }
        }
    }
}
