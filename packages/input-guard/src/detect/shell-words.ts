/**
 * The vocabulary of shells, the way the SQL lexer knows SQL keywords: POSIX utilities, the
 * common GNU/BSD/Windows commands and interpreters, and the functions of server-side languages
 * that hand a string to a shell. A word alone is never a finding; it counts only where the
 * shell grammar puts a command (after a separator, inside `$( )`, first word of the value).
 */
export const COMMANDS: ReadonlySet<string> = new Set([
  // POSIX and GNU core utilities
  'awk', 'basename', 'bash', 'cat', 'cd', 'chgrp', 'chmod', 'chown', 'cksum', 'cmp', 'comm', 'cp', 'crontab',
  'csh', 'cut', 'dash', 'date', 'dd', 'df', 'diff', 'dirname', 'du', 'echo', 'ed', 'env', 'eval', 'exec',
  'expr', 'false', 'file', 'find', 'fold', 'grep', 'egrep', 'fgrep', 'head', 'hostname', 'id', 'kill',
  'killall', 'ksh', 'less', 'ln', 'logname', 'ls', 'mkdir', 'mkfifo', 'more', 'mv', 'nice', 'nl', 'nohup',
  'od', 'paste', 'printf', 'printenv', 'ps', 'pwd', 'readlink', 'rm', 'rmdir', 'sed', 'seq', 'sh', 'sleep',
  'sort', 'source', 'split', 'stat', 'strings', 'su', 'sudo', 'tac', 'tail', 'tar', 'tee', 'test', 'time',
  'timeout', 'top', 'touch', 'tr', 'true', 'tty', 'uname', 'uniq', 'unzip', 'uptime', 'users', 'wc',
  'which', 'who', 'whoami', 'xargs', 'yes', 'zsh', 'gzip', 'gunzip', 'zcat', 'base64', 'xxd', 'hexdump',
  'md5sum', 'sha1sum', 'sha256sum', 'dmesg', 'mount', 'umount', 'lsof', 'netstat', 'ss', 'ifconfig', 'ip',
  'route', 'arp', 'last', 'groups', 'passwd', 'useradd', 'usermod', 'userdel', 'chpasswd', 'visudo',
  'service', 'systemctl', 'journalctl', 'sysctl', 'lsmod', 'insmod', 'modprobe', 'reboot', 'shutdown',
  'halt', 'poweroff', 'at', 'batch', 'history', 'export', 'set', 'unset', 'alias', 'exit', 'trap',
  'getent', 'locate', 'updatedb', 'sysinfo', 'uname',
  // network tools
  'curl', 'wget', 'nc', 'ncat', 'netcat', 'socat', 'telnet', 'ssh', 'scp', 'sftp', 'ftp', 'tftp', 'ping',
  'ping6', 'traceroute', 'tracert', 'nslookup', 'dig', 'host', 'whois', 'nmap', 'rsync', 'lynx', 'openssl',
  // interpreters and build tools
  'perl', 'python', 'python2', 'python3', 'ruby', 'php', 'node', 'nodejs', 'lua', 'tclsh', 'java', 'gcc',
  'cc', 'make', 'busybox', 'powershell', 'pwsh', 'cmd', 'cscript', 'wscript', 'mshta', 'rundll32',
  'regsvr32', 'certutil', 'bitsadmin', 'msiexec', 'wmic',
  // Windows cmd.exe and tools
  'dir', 'type', 'copy', 'del', 'erase', 'ren', 'move', 'net', 'netsh', 'ipconfig', 'systeminfo',
  'tasklist', 'taskkill', 'reg', 'sc', 'schtasks', 'whoami.exe', 'ver', 'vol', 'attrib', 'icacls', 'cacls',
  'findstr', 'start', 'call', 'runas', 'wevtutil', 'fsutil', 'bcdedit', 'diskpart', 'format', 'xcopy',
  'robocopy', 'more.com', 'cls', 'set', 'arp', 'nbtstat', 'qwinsta', 'query',
]);

/**
 * Functions of server-side languages that run a command or code from a string (PHP, Python,
 * Perl, Ruby, Node), and PHP's `phpinfo`, the canonical probe of code execution.
 */
export const EXEC_FUNCTIONS: ReadonlySet<string> = new Set([
  'system', 'exec', 'shell_exec', 'passthru', 'popen', 'proc_open', 'pcntl_exec', 'eval', 'assert',
  'create_function', 'include', 'require', 'include_once', 'require_once', 'phpinfo', 'file_get_contents',
  'file_put_contents', 'fopen', 'readfile', 'os.system', 'os.popen', 'subprocess.call', 'subprocess.run',
  'subprocess.popen', 'subprocess.check_output', '__import__', 'execsync', 'spawn', 'spawnsync', 'execfile',
  'child_process.exec', 'runtime.getruntime', 'io.popen', 'kernel.exec', 'open3.popen3',
]);

/** Exec functions that are probes even without arguments (`phpinfo()`). */
export const NO_ARGUMENT_PROBES: ReadonlySet<string> = new Set(['phpinfo', 'phpversion', 'getmypid']);
