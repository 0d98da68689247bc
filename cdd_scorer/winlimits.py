"""A memory limit for a reader worker on Windows, through a Job Object (ctypes only).

Windows has no ``RLIMIT_AS``. A process in a job with ``JOB_OBJECT_LIMIT_PROCESS_MEMORY`` cannot commit
more than the job's ``ProcessMemoryLimit``: an allocation beyond it fails (``MemoryError`` in Python,
an abort in calamine) instead of paging the clerk's PC to a halt with Excel and unsaved work open.
``limit_this_process`` puts the calling process into a new job with that limit; the job lives as long
as the process (its handle is kept, and closing it would not lift the limit anyway). Windows 8 and later
allow a process that is already in a job (a terminal's, a CI runner's) to join another.

The structures are declared with fixed-size ctypes types so that Linux CI can import this module and
check their layout against the Windows SDK.
"""

from __future__ import annotations

import ctypes
import os
from typing import Any

# winnt.h
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x00000100
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9  # JobObjectExtendedLimitInformation

_HANDLE = ctypes.c_void_p
_DWORD = ctypes.c_uint32
_SIZE_T = ctypes.c_size_t
_ULONG_PTR = ctypes.c_size_t
_LARGE_INTEGER = ctypes.c_int64
_ULONGLONG = ctypes.c_uint64


class JOBOBJECT_BASIC_LIMIT_INFORMATION(ctypes.Structure):  # noqa: N801 — the Windows SDK's name
    _fields_ = [("PerProcessUserTimeLimit", _LARGE_INTEGER), ("PerJobUserTimeLimit", _LARGE_INTEGER),
                ("LimitFlags", _DWORD), ("MinimumWorkingSetSize", _SIZE_T), ("MaximumWorkingSetSize", _SIZE_T),
                ("ActiveProcessLimit", _DWORD), ("Affinity", _ULONG_PTR), ("PriorityClass", _DWORD),
                ("SchedulingClass", _DWORD)]


class IO_COUNTERS(ctypes.Structure):  # noqa: N801
    _fields_ = [(name, _ULONGLONG) for name in ("ReadOperationCount", "WriteOperationCount",
                                                "OtherOperationCount", "ReadTransferCount",
                                                "WriteTransferCount", "OtherTransferCount")]


class JOBOBJECT_EXTENDED_LIMIT_INFORMATION(ctypes.Structure):  # noqa: N801
    _fields_ = [("BasicLimitInformation", JOBOBJECT_BASIC_LIMIT_INFORMATION), ("IoInfo", IO_COUNTERS),
                ("ProcessMemoryLimit", _SIZE_T), ("JobMemoryLimit", _SIZE_T),
                ("PeakProcessMemoryUsed", _SIZE_T), ("PeakJobMemoryUsed", _SIZE_T)]


_job_handle: int | None = None  # the job this process was put into, kept for the process's lifetime


def memory_limit_information(limit_bytes: int) -> JOBOBJECT_EXTENDED_LIMIT_INFORMATION:
    """The limits to set on the job: committed memory per process at most ``limit_bytes``, nothing else."""
    info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION()
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_PROCESS_MEMORY
    info.ProcessMemoryLimit = limit_bytes
    return info


def limit_this_process(limit_bytes: int) -> bool:
    """Put this process into a new job whose processes may commit at most ``limit_bytes``; whether the
    limit now applies (``False`` off Windows, or when Windows refuses)."""
    global _job_handle
    if os.name != "nt":
        return False
    kernel32 = _kernel32()
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return False
    info = memory_limit_information(limit_bytes)
    if not (kernel32.SetInformationJobObject(job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS,
                                             ctypes.byref(info), ctypes.sizeof(info))
            and kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess())):
        kernel32.CloseHandle(job)
        return False
    _job_handle = job
    return True


def _kernel32() -> Any:
    """kernel32 with the signatures used here (64-bit handles must not be truncated to ``int``)."""
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, ctypes.c_wchar_p]
    kernel32.CreateJobObjectW.restype = _HANDLE
    kernel32.SetInformationJobObject.argtypes = [_HANDLE, ctypes.c_int, ctypes.c_void_p, _DWORD]
    kernel32.SetInformationJobObject.restype = ctypes.c_int
    kernel32.AssignProcessToJobObject.argtypes = [_HANDLE, _HANDLE]
    kernel32.AssignProcessToJobObject.restype = ctypes.c_int
    kernel32.GetCurrentProcess.argtypes = []
    kernel32.GetCurrentProcess.restype = _HANDLE
    kernel32.CloseHandle.argtypes = [_HANDLE]
    kernel32.CloseHandle.restype = ctypes.c_int
    return kernel32
