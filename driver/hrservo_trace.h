/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hrservo trace events: frame starts, pulse edges and bus updates, so that
 * timing can be measured on real hardware with ftrace (events/hrservo/).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hrservo

#if !defined(_HRSERVO_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _HRSERVO_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(hrservo_frame,
	    TP_PROTO(int id, u64 seq, s64 scheduled_ns, s64 actual_ns,
		     u64 active, u32 period_ns),
	    TP_ARGS(id, seq, scheduled_ns, actual_ns, active, period_ns),
	    TP_STRUCT__entry(__field(int, id)
			     __field(u64, seq)
			     __field(s64, scheduled_ns)
			     __field(s64, actual_ns)
			     __field(u64, active)
			     __field(u32, period_ns)),
	    TP_fast_assign(__entry->id = id;
			   __entry->seq = seq;
			   __entry->scheduled_ns = scheduled_ns;
			   __entry->actual_ns = actual_ns;
			   __entry->active = active;
			   __entry->period_ns = period_ns;),
	    TP_printk("hrservo%d seq=%llu scheduled=%lld late=%lld active=0x%llx period=%u",
		      __entry->id, __entry->seq, __entry->scheduled_ns,
		      __entry->actual_ns - __entry->scheduled_ns,
		      __entry->active, __entry->period_ns)
);

TRACE_EVENT(hrservo_edge,
	    TP_PROTO(int id, u64 seq, int level, u64 mask, s64 scheduled_ns,
		     s64 actual_ns),
	    TP_ARGS(id, seq, level, mask, scheduled_ns, actual_ns),
	    TP_STRUCT__entry(__field(int, id)
			     __field(u64, seq)
			     __field(int, level)
			     __field(u64, mask)
			     __field(s64, scheduled_ns)
			     __field(s64, actual_ns)),
	    TP_fast_assign(__entry->id = id;
			   __entry->seq = seq;
			   __entry->level = level;
			   __entry->mask = mask;
			   __entry->scheduled_ns = scheduled_ns;
			   __entry->actual_ns = actual_ns;),
	    TP_printk("hrservo%d seq=%llu level=%d mask=0x%llx scheduled=%lld late=%lld",
		      __entry->id, __entry->seq, __entry->level, __entry->mask,
		      __entry->scheduled_ns,
		      __entry->actual_ns - __entry->scheduled_ns)
);

/*
 * A bus backend wrote the registers of one frame: @mask the channels it
 * wrote, @transfers bus transactions carrying @bytes register bytes, done
 * @done_ns - @scheduled_ns after the frame's start, @err 0 or the error.
 */
TRACE_EVENT(hrservo_bus_update,
	    TP_PROTO(int id, s64 scheduled_ns, s64 done_ns, u64 mask,
		     u32 transfers, u32 bytes, int err),
	    TP_ARGS(id, scheduled_ns, done_ns, mask, transfers, bytes, err),
	    TP_STRUCT__entry(__field(int, id)
			     __field(s64, scheduled_ns)
			     __field(s64, done_ns)
			     __field(u64, mask)
			     __field(u32, transfers)
			     __field(u32, bytes)
			     __field(int, err)),
	    TP_fast_assign(__entry->id = id;
			   __entry->scheduled_ns = scheduled_ns;
			   __entry->done_ns = done_ns;
			   __entry->mask = mask;
			   __entry->transfers = transfers;
			   __entry->bytes = bytes;
			   __entry->err = err;),
	    TP_printk("hrservo%d scheduled=%lld latency=%lld mask=0x%llx transfers=%u bytes=%u err=%d",
		      __entry->id, __entry->scheduled_ns,
		      __entry->done_ns - __entry->scheduled_ns, __entry->mask,
		      __entry->transfers, __entry->bytes, __entry->err)
);

#endif /* _HRSERVO_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE hrservo_trace
#include <trace/define_trace.h>
