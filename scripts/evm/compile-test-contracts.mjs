// Compiles the contracts the crypto-proxy and x402 tests deploy on their local chain and writes their ABI
// and creation bytecode to tests/helpers/evm/contracts.json, so tests need no compiler at run time.
// Run once after changing a contract: node scripts/evm/compile-test-contracts.mjs
// Uses solc-js 0.8.26 (npm `solc`, installed with hardhat 2), optimizer on, 200 runs, evmVersion paris.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const solc = createRequire(import.meta.url)("solc");

const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract TestToken {
    string public name = "Talon Test Token";
    string public symbol = "TTT";
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    error InsufficientBalance(uint256 available, uint256 required);

    constructor(address holder, uint256 supply) {
        totalSupply = supply;
        balanceOf[holder] = supply;
        emit Transfer(address(0), holder, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        require(allowance[from][msg.sender] >= value, "allowance too low");
        allowance[from][msg.sender] -= value;
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) internal {
        if (balanceOf[from] < value) revert InsufficientBalance(balanceOf[from], value);
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}

contract Reverter {
    function fail() external pure {
        revert("Reverter: always fails");
    }

    function panic(uint256 x) external pure returns (uint256) {
        return 10 / x;
    }

    receive() external payable {
        revert("Reverter: no ether");
    }
}
`;

// A USDC-style token with EIP-3009 transferWithAuthorization (FiatTokenV2's rules and revert messages)
// for the x402 tests. A source of its own, so the other contracts' bytecode does not change with it.
const USDC_SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract TestUsdc {
    string public name;
    string public constant version = "2";
    string public constant symbol = "TUSDC";
    uint8 public constant decimals = 6;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(bytes32 => bool)) private _authorizationStates;
    bytes32 public immutable DOMAIN_SEPARATOR;
    bytes32 public constant TRANSFER_WITH_AUTHORIZATION_TYPEHASH =
        keccak256("TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)");
    event Transfer(address indexed from, address indexed to, uint256 value);
    event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce);

    constructor(string memory name_, address holder, uint256 supply) {
        name = name_;
        DOMAIN_SEPARATOR = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes(name_)),
                keccak256(bytes(version)),
                block.chainid,
                address(this)
            )
        );
        totalSupply = supply;
        balanceOf[holder] = supply;
        emit Transfer(address(0), holder, supply);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function authorizationState(address authorizer, bytes32 nonce) external view returns (bool) {
        return _authorizationStates[authorizer][nonce];
    }

    function transferWithAuthorization(
        address from,
        address to,
        uint256 value,
        uint256 validAfter,
        uint256 validBefore,
        bytes32 nonce,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        require(block.timestamp > validAfter, "FiatTokenV2: authorization is not yet valid");
        require(block.timestamp < validBefore, "FiatTokenV2: authorization is expired");
        require(!_authorizationStates[from][nonce], "FiatTokenV2: authorization is used or canceled");
        bytes32 structHash = keccak256(abi.encode(TRANSFER_WITH_AUTHORIZATION_TYPEHASH, from, to, value, validAfter, validBefore, nonce));
        bytes32 digest = keccak256(abi.encodePacked("\\x19\\x01", DOMAIN_SEPARATOR, structHash));
        require(uint256(s) <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0, "ECRecover: invalid signature 's' value");
        address signer = ecrecover(digest, v, r, s);
        require(signer != address(0) && signer == from, "FiatTokenV2: invalid signature");
        _authorizationStates[from][nonce] = true;
        emit AuthorizationUsed(from, nonce);
        _move(from, to, value);
    }

    function _move(address from, address to, uint256 value) internal {
        require(balanceOf[from] >= value, "ERC20: transfer amount exceeds balance");
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
`;

const input = {
  language: "Solidity",
  sources: { "TestContracts.sol": { content: SOURCE }, "TestUsdc.sol": { content: USDC_SOURCE } },
  settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "paris", outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (out.errors ?? []).filter((e) => e.severity === "error");
if (errors.length) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
const result = { compiler: `solc-js ${solc.version()}`, source: SOURCE, usdcSource: USDC_SOURCE, contracts: {} };
for (const file of ["TestContracts.sol", "TestUsdc.sol"]) {
  for (const [name, c] of Object.entries(out.contracts[file])) {
    result.contracts[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  }
}
const file = path.join(import.meta.dirname, "../../tests/helpers/evm/contracts.json");
fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${path.relative(process.cwd(), file)}`);
